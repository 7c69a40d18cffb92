#!/usr/bin/python3
"""Build signatures/removed_roots.json from sources on a Debian 12 machine.

Removal facts come from Debian's ca-certificates changelogs, which list
every root the Mozilla bundle update of each upload removed (or Debian
blacklisted), under the upload's date.  Subject names and fingerprints
come from older CA bundles still present on the machine (certifi copies
vendored by old pip releases, botocore's bundle, the installed
ca-certificates before the removal).  Nothing is guessed: a root whose
certificate no bundle holds is listed on stderr and left out (the file
needs its subject name to match anything).

  /usr/bin/python3 tests/scripts/make_removed_roots.py CHANGELOG=DESCRIPTION ... \
      --bundle PEM=DESCRIPTION ... [--skip "LABEL: reason"] > signatures/removed_roots.json

The shipped file was made on Debian 12 with (P=/root/.pyenv/versions; the
second changelog from `apt-get download ca-certificates=20250419~deb12u2`):
  "/usr/share/doc/ca-certificates/changelog.gz=Debian ca-certificates 20230311+deb12u1 changelog"
  "x/usr/share/doc/ca-certificates/changelog.gz=Debian ca-certificates 20250419~deb12u2 changelog"
  --bundle "$P/2.7.18/lib/python2.7/site-packages/pip/_vendor/certifi/cacert.pem=certifi 2019.06.16 cacert.pem (vendored by pip 19.2.3)"
  --bundle "$P/3.6.15/lib/python3.6/site-packages/pip/_vendor/certifi/cacert.pem=certifi 2018.08.24 cacert.pem (vendored by pip 18.1)"
  --bundle "/etc/ssl/certs/ca-certificates.crt=Debian ca-certificates 20230311+deb12u1 ca-certificates.crt"
  --skip "Autoridad de Certificacion Firmaprofesional CIF A62634068: a renewed certificate with the same subject name is still in the store (Debian ca-certificates 20250419), so the name does not tell the removed one apart"
"""
import argparse, base64, gzip, hashlib, json, re, subprocess, sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization

HEAD = re.compile(r"^ca-certificates \(([^)]+)\) ([^;]+);")
TRAIL = re.compile(r"^ -- .*>  \w{3}, (\d{2}) (\w{3}) (\d{4}) ")
MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


COMMENT = ("Root certificates that left Mozilla's CA bundle (as Debian's ca-certificates "
           "ships it), with the date of the Debian upload that removed them: the root was "
           "public before that date, so a chain to it in an older capture is not an "
           "interception by itself. 'removed' is the upload date, an upper bound on "
           "Mozilla's own removal. Made by tests/scripts/make_removed_roots.py; see README.md "
           "in this directory.")


def uploads(path):
    """(version, dist, date, bundle_version, removed[], added[], blacklisted[]) per upload."""
    text = (gzip.open if path.endswith(".gz") else open)(path, "rt", encoding="utf-8").read()
    out, cur = [], None
    mode = None
    for line in text.splitlines():
        m = HEAD.match(line)
        if m:
            cur = {"version": m.group(1), "dist": m.group(2).strip(), "removed": [], "added": [],
                   "bundle": None, "path": path}
            mode = None
            continue
        if cur is None:
            continue
        t = TRAIL.match(line)
        if t:
            cur["date"] = "%s-%02d-%s" % (t.group(3), MONTHS[t.group(2)], t.group(1))
            out.append(cur)
            cur = None
            continue
        s = line.strip()
        b = re.search(r"bundle to version (\d+\.\d+)", s)
        if b and not cur["bundle"]:
            cur["bundle"] = b.group(1)
        if s.startswith("The following certificate authorities were removed"):
            mode = "removed"
            continue
        if s.startswith("The following certificate authorities were added") or \
                s.startswith("The following root certificates were added back"):
            mode = "added"
            continue
        bl = re.match(r'\*? ?Blacklist expired root certificate,? "([^"]+)"', s)
        if bl:
            cur["removed"].append((bl.group(1), "blacklisted by Debian (expired)"))
            continue
        if mode and s[:2] in ("- ", "+ "):
            name = re.sub(r"\s*\((closes|expired)[^)]*\)\s*$", "", s[2:]).strip().strip('"')
            note = "expired" if "(expired)" in s else ""
            cur[mode].append((name, note) if mode == "removed" else name)
        elif mode and not s:
            mode = None
        elif mode and not s.startswith(("-", "+")):
            mode = None
    return out


def dn(cert_pem):
    r = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"],
                       input=cert_pem, capture_output=True, text=True, check=True)
    return r.stdout.strip()[len("subject="):]


def bundle_certs(path, descr):
    text = open(path).read()
    certs = []
    for m in re.finditer(r"(?:# Label: \"([^\"\n]*)\"\n(?:#[^\n]*\n)*)?(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)",
                         text, re.S):
        pem = m.group(2) + "\n"
        c = x509.load_pem_x509_certificate(pem.encode())
        der = c.public_bytes(serialization.Encoding.DER)
        spki = c.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
        cns = [a.value for a in c.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
        ous = [a.value for a in c.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)]
        certs.append({"label": m.group(1), "cn": cns[0] if cns else None, "ous": ous,
                      "dn": dn(pem), "sha256": hashlib.sha256(der).hexdigest(),
                      "spki": base64.b64encode(hashlib.sha256(spki).digest()).decode(),
                      "bundle": descr})
    return certs


def norm(s):
    return re.sub(r"[^a-z0-9]", "", s.lower())


def ident(name):
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9.]+", "-", name.lower())).strip("-")[:64]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("changelog", nargs="+")
    ap.add_argument("--bundle", action="append", default=[], help="PEM=description")
    ap.add_argument("--skip", action="append", default=[], help="NAME: leave out (reason on stderr)")
    a = ap.parse_args()

    ups = {}
    for arg in a.changelog:
        p, descr = arg.split("=", 1)
        for u in uploads(p):
            u["descr"] = descr
            ups.setdefault((u["version"], u["date"]), u)
    # Oldest first; a name's removal is its last removal not followed by
    # an addition, dated by the earliest upload that lists it.
    seq = sorted(ups.values(), key=lambda u: u["date"])
    state = {}
    for u in seq:
        for name in u["added"]:
            state.pop(norm(name), None)
        # A bundle removal says more than Debian's blacklist line for the
        # same root in the same upload.
        for name, note in sorted(u["removed"], key=lambda r: r[1].startswith("black")):
            state.setdefault(norm(name), (name, note, u))

    pool = []
    for b in a.bundle:
        path, descr = b.split("=", 1)
        pool += bundle_certs(path, descr)

    entries, missing = [], []
    skip = {norm(s.split(":", 1)[0]): s for s in a.skip}
    for key, (name, note, u) in sorted(state.items(), key=lambda kv: (kv[1][2]["date"], kv[1][0].lower())):
        if key in skip:
            print("left out: %s" % skip[key], file=sys.stderr)
            continue
        hits = [c for c in pool if (c["label"] and norm(c["label"]) == key) or
                (c["cn"] and norm(c["cn"]) == key) or any(norm(o) == key for o in c["ous"])]
        by_fp = {}
        for c in hits:
            by_fp.setdefault(c["sha256"], []).append(c)
        what = ("blacklisted by Debian (expired)" if note.startswith("black") else
                "removed with Mozilla bundle %s" % u["bundle"] if u["bundle"] else "removed")
        src = ("%s: upload %s (%s) %s" % (u["descr"], u["version"], u["date"], what))
        e = {"id": ident(name), "label": name}
        if len(by_fp) != 1:
            missing.append("%s (%s): %d certificates found" % (name, u["date"], len(by_fp)))
            continue
        c = next(iter(by_fp.values()))[0]
        e["subject_dn"] = c["dn"]
        e["sha256"] = c["sha256"]
        e["spki_sha256"] = c["spki"]
        e["store"] = "mozilla"
        e["removed"] = u["date"]
        e["source"] = src
        e["certificate_source"] = "; ".join(sorted({x["bundle"] for x in by_fp[c["sha256"]]}))
        if note == "expired":
            e["comment"] = "expired when removed (as the changelog says)"
        entries.append(e)
    for m in missing:
        print("not sourced: " + m, file=sys.stderr)
    doc = {"comment": COMMENT, "version": 1, "entries": entries}
    return doc


if __name__ == "__main__":
    doc = main()
    json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
