#!/usr/bin/env python3
"""proc-tree.py PID [--label NAME]: the memory of a process and all its descendants.

Prints one TSV line per process (label, pid, ppid, command, RSS kB, PSS kB) and a
`total` line, then, for the root process, where its RSS goes, from /proc/PID/smaps:
  code      the program's own file mappings (the node or knockd binary)
  libs      shared libraries (.so)
  ring      the packet socket's mmap'd capture ring(s)
  heap      anonymous memory (V8 heap, malloc, buffers, thread stacks)
  other     everything else (vdso, locale archive, ICU data files, ...)
Used by scripts/bench-memory.sh; standard library only.
"""
import os
import sys


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def tree(pid):
    todo, seen = [pid], []
    while todo:
        p = todo.pop(0)
        if p in seen:
            continue
        seen.append(p)
        todo += children(p)
    return seen


def kb(pid, name, key):
    """The kB figure of the line `key:` in /proc/PID/NAME (0: no such line or process)."""
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def status(pid, key):
    return kb(pid, "status", key)


def pss(pid):
    return kb(pid, "smaps_rollup", "Pss")


def command(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            parts = [p.decode(errors="replace") for p in f.read().split(b"\0") if p]
    except OSError:
        return "?"
    text = " ".join(os.path.basename(parts[0]) if i == 0 else p for i, p in enumerate(parts))
    text = " ".join(text.split())
    return text if len(text) <= 70 else text[:67] + "..."


def breakdown(pid):
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = ""
    parts = {"code": 0, "libs": 0, "ring": 0, "heap": 0, "other": 0}
    name = ""
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                fields = line.split()
                if not fields:
                    continue
                if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
                    name = " ".join(fields[5:]) if len(fields) > 5 else ""
                elif fields[0] == "Rss:":
                    kb = int(fields[1])
                    if name == exe or (exe and name.startswith(exe)):
                        parts["code"] += kb
                    elif ".so" in name:
                        parts["libs"] += kb
                    elif name.startswith("socket:") or name.startswith("/memfd:") and "packet" in name:
                        parts["ring"] += kb
                    elif name in ("", "[heap]", "[stack]") or name.startswith("[anon"):
                        parts["heap"] += kb
                    else:
                        parts["other"] += kb
    except OSError:
        pass
    return parts


def main():
    pid = int(sys.argv[1])
    label = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--label" else "daemon"
    total_rss = total_pss = 0
    for p in tree(pid):
        rss, ps = status(p, "VmRSS"), pss(p)
        total_rss += rss
        total_pss += ps
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
        except OSError:
            ppid = "?"
        print(f"{label}\t{p}\t{ppid}\t{command(p)}\t{rss}\t{ps}")
    print(f"{label}\ttotal\t-\t({len(tree(pid))} processes)\t{total_rss}\t{total_pss}")
    parts = breakdown(pid)
    print(f"{label}\tbreakdown\t-\t" + " ".join(f"{k}={v}" for k, v in parts.items()) + f"\t{sum(parts.values())}\t-")


main()
