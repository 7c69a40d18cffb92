/*
 * spki.h - `pinscope spki FILE...`: the SPKI pin of certificates or keys.
 */
#ifndef PINSCOPE_SPKI_CMD_H
#define PINSCOPE_SPKI_CMD_H

/* argv[0] is "spki".  Exit status 0, 1 (a file failed), 2 (usage). */
int spki_main(int argc, char **argv);

#endif
