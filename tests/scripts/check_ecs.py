#!/usr/bin/env python3
"""check_ecs.py - every --format ecs document against ECS's own field list.

Runs `pinscope --format ecs` on every golden capture, every sample capture
and the shared conformance corpus (when present), plus a golden capture
rewritten to public addresses with GeoIP/ASN data (when geoip_data.sh can
install it), and checks each document against ../shared/schemas/
ecs_flat.yml (elastic/ecs generated/ecs/ecs_flat.yml):

  * every field outside the custom `pinscope.*` namespace is an ECS field;
  * its value has the ECS type: keyword/text -> string, long -> integer,
    float/double -> number, boolean, date -> ISO 8601 with a zone, ip -> an
    address, geo_point -> {lat, lon}; arrays hold values of that type;
  * fields with allowed values (event.kind, event.category, event.type)
    use only those, and every document has @timestamp and ecs.version;
  * a document is one JSON object on one line.

Final line: "ecs: N passed, M failed"; "ecs: skipped" without the field
list or PyYAML.
"""
import glob
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(REPO, "..", "shared"))
FLAT = os.path.join(SHARED, "schemas", "ecs_flat.yml")

try:
    import yaml
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3" \
            and not os.environ.get("CHECK_ECS_REEXEC"):
        os.environ["CHECK_ECS_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("ecs: python3-yaml is missing")
    print("ecs: 0 passed, 1 failed")
    sys.exit(1)

DATE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")
STRING_TYPES = {"keyword", "wildcard", "constant_keyword", "match_only_text", "text"}
INT_TYPES = {"long", "integer", "short", "byte", "unsigned_long"}
NUM_TYPES = {"float", "double", "scaled_float", "half_float"}

passed = failed = 0
shown = 0


def check(ok, what):
    global passed, failed, shown
    if ok:
        passed += 1
    else:
        failed += 1
        if shown < 40:
            print("FAIL %s" % what)
            shown += 1
    return ok


def value_ok(typ, v):
    if typ in STRING_TYPES:
        return isinstance(v, str)
    if typ in INT_TYPES:
        return isinstance(v, int) and not isinstance(v, bool)
    if typ in NUM_TYPES:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if typ == "boolean":
        return isinstance(v, bool)
    if typ == "date":
        return isinstance(v, str) and DATE_RE.match(v) is not None
    if typ == "ip":
        try:
            ipaddress.ip_address(v)
            return True
        except Exception:
            return False
    if typ == "geo_point":
        return isinstance(v, dict) and set(v) == {"lat", "lon"} and all(
            isinstance(v[k], (int, float)) for k in v)
    if typ in ("object", "flattened", "nested"):
        return isinstance(v, dict)
    return False


def walk(fields, doc, prefix, where, seen):
    for k, v in doc.items():
        name = prefix + k
        if name == "pinscope" or name.startswith("pinscope."):
            continue   # the custom namespace
        spec = fields.get(name)
        if spec is not None and spec["type"] not in ("object", "nested") or \
                (spec is None and not isinstance(v, dict)):
            if not check(spec is not None, "%s: %s is not an ECS field" % (where, name)):
                continue
            typ = spec["type"]
            vals = v if isinstance(v, list) else [v]
            check(all(value_ok(typ, x) for x in vals),
                  "%s: %s = %r is not of ECS type %s" % (where, name, v, typ))
            allowed = spec.get("allowed_values")
            if allowed:
                names = {a["name"] for a in allowed}
                check(all(x in names for x in vals), "%s: %s = %r not among %s" % (where, name, v, sorted(names)))
            seen.add(name)
            continue
        if isinstance(v, dict):
            walk(fields, v, name + ".", where, seen)
        else:
            check(False, "%s: %s is an object in ECS, got %r" % (where, name, v))


def run(pinscope, args):
    p = subprocess.run([pinscope, "--deterministic", "--format", "ecs"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    lines = p.stdout.decode("utf-8").splitlines()
    return p.returncode, lines


def main():
    pinscope = sys.argv[sys.argv.index("--pinscope") + 1] if "--pinscope" in sys.argv else \
        os.path.join(REPO, "pinscope")
    if not os.path.exists(FLAT):
        print("ecs: skipped (no %s)" % FLAT)
        return 0
    fields = yaml.safe_load(open(FLAT))
    golden = os.path.join(REPO, "tests", "golden")
    inputs = []
    for pcap in sorted(glob.glob(os.path.join(golden, "*.pcap")) + glob.glob(os.path.join(golden, "*.pcapng"))):
        extra = ["--stats", "--ca-bundle", os.path.join(golden, "certs", "root.pem")]
        kl = re.sub(r"\.pcap(ng)?$", ".keylog", pcap)
        if os.path.exists(kl):
            extra += ["--keylog", kl]
        inputs.append((pcap, extra))
    for pcap in sorted(glob.glob(os.path.join(REPO, "samples", "*.pcap"))):
        extra = ["--ca-bundle", os.path.join(REPO, "samples", "pki", "public-root-ca.pem"),
                 "--policy", os.path.join(REPO, "samples", "policy.json")]
        kl = pcap[:-5] + ".keylog"
        if os.path.exists(kl):
            extra += ["--keylog", kl]
        inputs.append((pcap, extra))
    for pcap in sorted(glob.glob(os.path.join(SHARED, "corpus", "*", "*.pcap*")) +
                       glob.glob(os.path.join(SHARED, "corpus", "*", "pcap", "*.pcap*"))):
        inputs.append((pcap, []))
    # Public addresses with GeoIP and ASN, when the data and tcprewrite exist.
    city, asn = os.environ.get("PINSCOPE_GEOIP_CITY"), os.environ.get("PINSCOPE_GEOIP_ASN")
    tmp = tempfile.mkdtemp(prefix="pinscope-ecs.")
    if city and asn and subprocess.run(["sh", "-c", "command -v tcprewrite"], stdout=subprocess.PIPE).returncode == 0:
        pub = os.path.join(tmp, "public.pcap")
        subprocess.run(["tcprewrite", "--pnat=198.18.0.1/32:8.8.8.8/32,198.18.0.2/32:129.132.1.1/32",
                        "--fixcsum", "-i", os.path.join(golden, "certs_mtls.pcap"), "-o", pub],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        inputs.append((pub, ["--geoip-db", city, "--asn-db", asn, "--sensor-name", "sensor-1"]))

    seen = set()
    kinds = {}
    for pcap, extra in inputs:
        rc, lines = run(pinscope, extra + ["-r", pcap])
        name = os.path.basename(pcap)
        check(rc == 0, "%s: pinscope --format ecs exit %d" % (name, rc))
        for i, line in enumerate(lines):
            where = "%s doc %d" % (name, i + 1)
            try:
                doc = json.loads(line)
            except ValueError:
                check(False, "%s: not JSON" % where)
                continue
            check("@timestamp" in doc and doc.get("ecs", {}).get("version"),
                  "%s: @timestamp and ecs.version required" % where)
            kind = doc.get("event", {}).get("kind")
            kinds[kind] = kinds.get(kind, 0) + 1
            walk(fields, doc, "", where, seen)
    for must in ("source.geo.country_iso_code", "destination.as.number", "tls.server.x509.subject.common_name",
                 "tls.client.x509.issuer.distinguished_name", "network.community_id", "rule.id",
                 "threat.technique.id", "observer.hostname"):
        if city and asn:
            check(must in seen, "no document carried %s" % must)
    print("ecs: documents per event.kind: %s; %d distinct ECS fields used"
          % (", ".join("%s %d" % kv for kv in sorted(kinds.items())), len(seen)))
    print("ecs: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
