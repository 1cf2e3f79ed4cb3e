#!/usr/bin/env python3
"""Instructions per call, by callee, of the calls one object makes (callgrind).

    callgrind-calls.py CALLER_OBJ_SUBSTRING OUT_A N_A OUT_B N_B

OUT_A and OUT_B are callgrind outputs of the same run with N_A and N_B calls
per cell (N_B > N_A, SAMBA_CALLS_ITERS); every callee the caller object calls
is reported as (Ir_B - Ir_A) / (N_B - N_A) inclusive instructions per call
of the cell, and (calls_B - calls_A) / (N_B - N_A) calls per cell. The
difference cancels what runs once (lazy binding, first-use setup, init), so
what remains is the steady per-call cost. Prints "callee calls_per_cell
ir_per_cell" lines.
"""
import re
import sys


def calls_from(path, caller_obj):
    """{callee name: [calls, inclusive Ir]} over call sites in caller_obj."""
    names = {"ob": {}, "fn": {}}
    out = {}
    ob = cob = fn = cfn = None
    pending = None  # (callee, calls) awaiting its cost line
    events = None
    for line in open(path, errors="replace"):
        if line.startswith("events:"):
            events = line.split()[1:]
            continue
        if pending is not None:
            if line[:1].isdigit() or line[:1] in "+-*":
                cost = line.split()
                ir = int(cost[1]) if len(cost) > 1 else 0
                slot = out.setdefault(pending[0], [0, 0])
                slot[0] += pending[1]
                slot[1] += ir
            pending = None
            continue
        m = re.match(r"^(c?)(ob|fn|fl|fi|fe)=(?:\((\d+)\))?\s*(.*)$", line.rstrip("\n"))
        if m:
            called, kind, ident, name = m.groups()
            kind = {"fl": "fl", "fi": "fl", "fe": "fl"}.get(kind, kind)
            table = names.setdefault(kind, {})
            if ident is not None:
                if name:
                    table[ident] = name
                name = table.get(ident, name)
            if kind == "ob":
                if called:
                    cob = name
                else:
                    ob = cob = name
            elif kind == "fn":
                if called:
                    cfn = name
                else:
                    fn, cob = name, ob
            continue
        if line.startswith("calls="):
            n = int(line.split("=")[1].split()[0])
            # Calls within the caller object (its own helpers) are not calls out.
            if ob is not None and caller_obj in ob and not (cob and caller_obj in cob):
                pending = (cfn, n)
            else:
                pending = ("\0skip", n)
            cob = ob  # cob= names the callee object of one call only
            continue
    if events and events[0] != "Ir":
        sys.exit(f"{path}: first event is {events[0]}, not Ir")
    out.pop("\0skip", None)
    return out


def main():
    caller, a, na, b, nb = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    ca, cb = calls_from(a, caller), calls_from(b, caller)
    d = nb - na
    for callee in sorted(cb):
        calls = cb[callee][0] - ca.get(callee, [0, 0])[0]
        ir = cb[callee][1] - ca.get(callee, [0, 0])[1]
        if calls > 0:
            print(f"{callee} {calls / d:g} {ir / d:.1f}")


main()
