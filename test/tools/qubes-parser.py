#!/usr/bin/env python3
"""Runs Qubes' own qrexec policy loader over the corpus of native policy
directories in test/fixtures/native/corpus.json and prints its verdicts as
JSON (test/fixtures/native/verdicts-RELEASE.json).

Usage: QREXEC_SRC=DIR python3 test/tools/qubes-parser.py [--release 4.2|4.3] [CORPUS]

QREXEC_SRC is an extracted qubes-core-qrexec tree (the directory holding
the `qrexec` package); its release is told by the package itself (4.3 has
RUNTIME_POLICY_PATH) unless --release says it. Each corpus case is a policy
directory, written to a temporary directory and loaded with `FilePolicy`,
the class dom0's policy daemon uses. `!compat-4.0` splices nothing: the
legacy tree of this machine is not read. Paths of the temporary directory
in Qubes' messages are shown as /etc/qubes/policy.d, the directory it
stands for.

A verdict is {"ok": true, "rules": [...]} with each rule as Qubes parsed
it, or {"ok": false, "error": {"type", "file", "line", "message"}}: the
exception the loader raised, the file (relative to the directory) and line
it names, and its message without the `FILE:LINE: ` prefix.
"""
import json
import os
import pathlib
import re
import sys
import tempfile


def main():
    args = sys.argv[1:]
    release = None
    if len(args) >= 2 and args[0] == "--release":
        release = args[1]
        args = args[2:]
    corpus_path = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "fixtures", "native", "corpus.json")
    src = os.environ.get("QREXEC_SRC")
    if not src:
        sys.exit("qubes-parser.py: set QREXEC_SRC to an extracted qubes-core-qrexec tree")
    sys.path.insert(0, src)
    sys.setrecursionlimit(1000)
    import qrexec  # noqa: E402
    from qrexec.policy import parser, parser_compat  # noqa: E402
    from qrexec import exc  # noqa: E402

    detected = "4.3" if hasattr(qrexec, "RUNTIME_POLICY_PATH") else "4.2"
    if release is None:
        release = detected
    elif release != detected:
        sys.exit(f"qubes-parser.py: QREXEC_SRC is a {detected} tree, not {release}")

    # No legacy files: what `qpc lint` does not read either.
    parser_compat.Compat40Loader.walk_includes = lambda self: iter(())
    import logging
    logging.disable(logging.CRITICAL)

    with open(corpus_path, encoding="utf-8") as f:
        corpus = json.load(f)

    verdicts = {}
    for case in corpus["cases"]:
        if release not in case.get("releases", ["4.2", "4.3"]):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            root = pathlib.Path(tmp, "policy.d")
            root.mkdir()
            for rel, text in case["files"].items():
                p = root / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                with open(p, "w", encoding="utf-8", newline="") as out:
                    out.write(text)
            verdicts[case["name"]] = verdict(parser, exc, root)
    json.dump({"release": release, "verdicts": verdicts}, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


def shown(path, root):
    """A path of the temporary directory as the dom0 path it stands for."""
    return str(path).replace(str(root.resolve()), "/etc/qubes/policy.d").replace(str(root), "/etc/qubes/policy.d")


def relative(path, root):
    s = shown(path, root)
    prefix = "/etc/qubes/policy.d/"
    return s[len(prefix):] if s.startswith(prefix) else s


def verdict(parser, exc, root):
    try:
        policy = parser.FilePolicy(policy_path=root)
    except RecursionError:
        return {"ok": False, "error": {"type": "RecursionError", "file": None, "line": None, "message": "maximum recursion depth exceeded"}}
    except exc.PolicySyntaxError as e:
        m = re.match(r"^(.*?):(\d+|None): (.*)$", str(e), re.S)
        if m is None:
            return {"ok": False, "error": {"type": "PolicySyntaxError", "file": None, "line": None, "message": shown(str(e), root)}}
        return {"ok": False, "error": {"type": "PolicySyntaxError", "file": relative(m.group(1), root), "line": None if m.group(2) == "None" else int(m.group(2)), "message": shown(m.group(3), root)}}
    except exc.AccessDenied as e:
        return {"ok": False, "error": {"type": "AccessDenied", "file": None, "line": None, "message": shown(str(e), root)}}
    rules = []
    for r in policy.rules:
        a = r.action
        rules.append({
            "file": relative(r.filepath, root),
            "line": r.lineno,
            "service": "*" if r.service is None else r.service,
            "argument": "*" if r.argument is None else r.argument,
            "source": str(r.source),
            "target": str(r.target),
            "action": type(a).__name__.lower(),
            "redirect": None if getattr(a, "target", None) is None else str(a.target),
            "default_target": None if getattr(a, "default_target", None) is None else str(a.default_target),
            "user": getattr(a, "user", None),
            "notify": a.notify,
            "autostart": getattr(a, "autostart", None),
        })
    return {"ok": True, "rules": rules}


if __name__ == "__main__":
    main()
