/*
 * dnsname.h - is a server name public, and what is its registered domain,
 * by the Public Suffix List (libpsl).
 *
 * Names come off the wire (SNI, certificate names) and are treated as
 * hostile: a name is only looked up once it is a syntactically valid host
 * name, and the lookup is done on a lower-cased copy.  A valid host name
 * here is at most 253 characters (one trailing dot tolerated and ignored),
 * at least two labels of 1..63 letters, digits and hyphens, no label
 * starting or ending with a hyphen, and a last label that is not all
 * digits (so no IPv4 literal, in any inet_aton spelling; IPv6 literals
 * fail on ':').  IDNA names are fine in their A-label form (xn--...);
 * raw non-ASCII bytes are not a host name.  A wildcard label ("*.a.com")
 * and underscores are rejected too: they name no host a client looks up,
 * and public CAs may not issue for underscores (CA/B Forum ballot SC12),
 * so such a name tells nothing about what a public site would present.
 *
 * Public means: under a real ICANN-section entry of the list.  The list's
 * implicit "*" rule (any unknown last label is a suffix) is switched off
 * (PSL_TYPE_NO_STAR_RULE), so host.mylab, wiki.acme.zz, printer.local,
 * x.test, x.internal, x.corp, ... are not public, and neither is a name
 * that the list itself lists but that no public DNS serves: all of .arpa
 * (reverse zones, home.arpa of RFC 8375) and .onion (RFC 7686), and the
 * RFC 2606 documentation domains example.com, example.net, example.org
 * with their subdomains.  The ICANN section is the one that says a name
 * is delegated from the root; the PRIVATE section (github.io, s3.amazon-
 * aws.com, ...) only draws owner boundaries inside names that are public
 * already, so it adds nothing to the yes/no answer.  A name that is itself
 * a suffix (co.uk, github.io) is public when it sits under one, as both
 * of those do.
 *
 * The registered domain (eTLD+1) is taken over both sections, as browsers
 * draw the "site" and cookie boundary: www.bbc.co.uk -> bbc.co.uk,
 * a.b.github.io -> b.github.io (each github.io name has its own owner).
 *
 * The list is the one compiled into libpsl (psl_builtin()), not the
 * system's /usr/share/publicsuffix file (psl_latest()).  Reasons: no file
 * is opened, ever, so the answer cannot change with the working directory,
 * a chroot, a sandboxed unit or a privilege drop that happens before the
 * first lookup (the list is set up lazily, on a worker, on first use);
 * the verdicts, and so the golden outputs, depend on the libpsl build only,
 * not also on the version of the publicsuffix package; and on Debian the
 * two are the same snapshot (libpsl is built from the publicsuffix package
 * of its release).  The public verdict only moves when a TLD is delegated
 * or retired, which the compiled-in list follows well enough.  Should a
 * libpsl come without built-in data, the distribution's file is loaded
 * once instead (psl_latest(NULL)); with neither, no name is public.
 *
 * The list is set up once per process (pthread_once) and only read after
 * that; libpsl lookups on ASCII input allocate nothing and keep no state,
 * so every function here may be called from any thread.  No I/O per call.
 * Each thread keeps its own answers for the last names asked (4-way set
 * associative, least recently used replaced, CFG_DNSNAME_CACHE_SLOTS,
 * allocated on its first call, freed when it exits): a hit answers
 * exactly as a lookup of that name would.
 */
#ifndef PINSCOPE_DNSNAME_H
#define PINSCOPE_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>

#define DNSNAME_MAX 253   /* characters in a name, without the trailing dot */

/* True for a valid host name under a real ICANN public suffix (see above).
 * NULL, an empty or an invalid name is not public. */
bool dnsname_public(const char *name);

/* The registered domain of a public name, lower-cased and without a
 * trailing dot, in buf[0..len) (DNSNAME_MAX + 1 bytes always suffice);
 * returns buf.  NULL, buf untouched, when the name is not public, is
 * itself a public suffix (co.uk, github.io), or does not fit. */
const char *dnsname_registered_domain(const char *name, char *buf, size_t len);

#endif
