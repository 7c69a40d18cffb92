/*
 * test_hex.c - util/hex.h: hex_decode against hex_digit for every pair of
 * byte values, and runs with a bad digit anywhere.
 */
#include "util/hex.h"
#include "testhelp.h"

int main(void)
{
    int wrong = 0;
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            uint8_t s[2] = { (uint8_t)a, (uint8_t)b }, o = 0;
            bool ok = hex_decode(s, 1, &o);
            int ha = hex_digit(a), hb = hex_digit(b);
            bool want = ha >= 0 && hb >= 0;
            if (ok != want || (ok && o != (uint8_t)(ha * 16 + hb)))
                wrong++;
        }
    }
    test_cond("every pair of bytes decodes as hex_digit says", wrong == 0);

    const uint8_t good[] = "00ff7fA0bC19";
    uint8_t out[6];
    test_cond("a run decodes", hex_decode(good, 6, out) && out[0] == 0x00 && out[1] == 0xff &&
                                   out[2] == 0x7f && out[3] == 0xa0 && out[4] == 0xbc &&
                                   out[5] == 0x19);
    int missed = 0;
    for (size_t at = 0; at < 12; at++) {
        uint8_t s[12];
        memcpy(s, good, 12);
        s[at] = 'g';
        if (hex_decode(s, 6, out))
            missed++;
    }
    test_cond("a bad digit anywhere fails the run", missed == 0);
    test_cond("an empty run decodes", hex_decode(good, 0, out));
    return test_report();
}
