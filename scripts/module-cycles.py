#!/usr/bin/env python3
"""Import cycles between the files of Rust crates.

Reads each crate's src/ (a crate root is src/lib.rs, src/main.rs or a
src/bin/*.rs file; the module tree follows `mod` declarations), resolves every
path a file uses (`use` trees, and `crate::`, `self::`, `super::` or
child-module paths in code) to the file that defines it, following `pub use`
re-exports, and prints each file's imports and every cycle: a set of two or
more files that reach each other. A `mod` declaration is containment, not an
import; a file's own inline modules (`mod tests { use super::*; }`) are the
file itself. Exit status 1 if any crate has a cycle.

usage: python3 scripts/module-cycles.py CRATE_DIR... [--edges]
(--edges: also each file's imports, with one path that makes each)
"""
import re
import sys
from pathlib import Path

def strip(text):
    """The code without comments, strings and char literals (same length lines)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if text[i] == "\n" else "")
                    i += 1
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and (m := re.match(r"'(\\.[^']*|[^\\'])'", text[i:])):
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand(tree):
    """`a::{b, c::{d, e as f}, self}` -> [[a, b], [a, c, d], [a, c, e], [a]]."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)

    def walk(s, prefix):
        parts, depth, start = [], 0, 0
        for k, ch in enumerate(s):
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                parts.append(s[start:k])
                start = k + 1
        parts.append(s[start:])
        paths = []
        for p in filter(None, parts):
            if "{" in p:
                head, rest = p.split("{", 1)
                paths += walk(rest[: rest.rfind("}")], prefix + [x for x in head.split("::") if x])
            else:
                segs = [x for x in p.split("::") if x]
                paths.append(prefix if segs in (["self"], ["*"]) else prefix + segs)
        return paths

    return walk(tree, [])


class Crate:
    def __init__(self, root_file):
        self.files = {}  # module path (tuple of names) -> file
        self.children = {}  # module path -> names of its file modules
        self.load(root_file, ())

    def load(self, path, mod):
        self.files[mod] = path
        self.children[mod] = set()
        code = strip(path.read_text())
        top = mod == () or path.name in ("lib.rs", "main.rs", "mod.rs")
        base = path.parent if top else path.with_suffix("")
        for m in re.finditer(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code):
            name = m.group(1)
            f = next((c for c in (base / f"{name}.rs", base / name / "mod.rs") if c.exists()), None)
            if f is not None:
                self.children[mod].add(name)
                self.load(f, mod + (name,))

    def resolve(self, segs, here, reexports):
        """(module, rest): the file module a path used in `here` points into and
        the segments after it, or None for external crates and local names."""
        if not segs:
            return None
        if segs[0] == "crate":
            mod, rest = (), segs[1:]
        elif segs[0] == "self":
            mod, rest = here, segs[1:]
        elif segs[0] == "super":
            mod, rest = here, segs
            while rest and rest[0] == "super" and mod:
                mod, rest = mod[:-1], rest[1:]
        elif segs[0] in self.children.get(here, ()):
            mod, rest = here, segs
        else:
            return None
        for _ in range(16):  # through re-exports
            while rest and rest[0] in self.children.get(mod, ()):
                mod, rest = mod + (rest[0],), rest[1:]
            if rest and (mod, rest[0]) in reexports:
                target = reexports[(mod, rest[0])]
                if target is None:
                    return None  # an external name brought in by `use`
                if target[0] != mod or list(target[1]) != rest[:1]:
                    mod, rest = target[0], list(target[1]) + rest[1:]
                    continue
            break
        return mod, rest

    def graph(self):
        codes = {m: strip(p.read_text()) for m, p in self.files.items()}
        uses, names = {}, {}
        for m, code in codes.items():
            uses[m] = []
            for u in re.finditer(r"\buse\s+([^;]+);", code):
                for segs in expand(u.group(1)):
                    uses[m].append((u.start(), segs))
            for p in re.finditer(r"(?<![\w:])((?:crate|self|super|[a-z_]\w*)(?:::\w+)+)", code):
                if not code[: p.start()].rstrip().endswith("use"):
                    uses[m].append((p.start(), p.group(1).split("::")))
        # What each `use` brings into its module's namespace: an internal
        # (module, rest), or None (an external crate, std).
        for _ in range(4):  # names imported from names imported elsewhere
            for m in uses:
                inline = inline_spans(codes[m])
                for u in re.finditer(r"\buse\s+([^;]+);", codes[m]):
                    if any(a <= u.start() < b for a, b in inline):
                        continue  # a name of the inline module, not of the file's
                    for segs in expand(u.group(1)):
                        if segs and segs[-1] != "*":
                            names[(m, segs[-1])] = self.resolve(segs, m, names)
        edges = {m: set() for m in self.files}
        self.why = {}
        for m, paths in uses.items():
            inline = inline_spans(codes[m])
            for pos, segs in paths:
                depth = sum(1 for a, b in inline if a <= pos < b)
                k = 0
                while depth and k < len(segs) and segs[k] == "super":
                    depth, k = depth - 1, k + 1
                if k:  # super:: out of the file's own inline modules
                    segs = ["self"] + segs[k:]
                r = self.resolve(segs, m, names)
                if r is not None and r[0] != m:
                    edges[m].add(r[0])
                    self.why.setdefault((m, r[0]), "::".join(segs))
        return edges


def inline_spans(code):
    """(start, end) of each inline `mod name { ... }` body."""
    spans = []
    for m in re.finditer(r"\bmod\s+\w+\s*\{", code):
        depth, i = 1, m.end()
        while i < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            i += 1
        spans.append((m.end(), i))
    return spans


def cycles(edges):
    """Strongly connected components of two or more nodes (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in edges:
        if v not in index:
            visit(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--edges" in sys.argv
    if not args:
        print(__doc__.strip().splitlines()[-1])
        return 2
    status = 0
    for d in args:
        src = Path(d) / "src"
        roots = [src / "lib.rs", src / "main.rs"] + sorted((src / "bin").glob("*.rs"))
        for root in (r for r in roots if r.exists()):
            crate = Crate(root)
            edges = crate.graph()
            name = lambda m: str(crate.files[m])
            found = cycles(edges)
            print(f"{root}: {len(crate.files)} files, {sum(map(len, edges.values()))} imports between them, "
                  f"{len(found)} cycles")
            if show:
                for m in sorted(edges, key=name):
                    if edges[m]:
                        print(f"  {name(m)} -> " + ", ".join(
                            f"{name(t)} ({crate.why[(m, t)]})" for t in sorted(edges[m], key=name)))
            for comp in found:
                status = 1
                print("  cycle: " + " <-> ".join(sorted(name(m) for m in comp)))
    return status


if __name__ == "__main__":
    sys.exit(main())
