#!/usr/bin/env python3
"""The file-level import graph of core/src (non-test code), its cycles, and
any import of a higher layer (the layers: core/src/backend/README.md).

Usage: python3 scripts/check-layers.py [SRC_DIR]   (default core/src; exit 1
on a cycle, an upward import or a file with no layer).

Edges: every `use` and every inline `crate::`/`super::`/`self::`/child-module
path in a file (comments and #[cfg(test)] modules stripped), resolved to the
file that defines the item, following `pub use` re-exports. Module
declarations (`mod x;`) are not edges."""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'core', 'src')
root = os.path.normpath(root)
mods = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.relpath(os.path.join(d, f), root)
        parts = p[:-3].split('/')
        if parts[-1] in ('mod', 'lib'): parts = parts[:-1]
        mods[tuple(parts)] = p
def strip(src):
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    out = []; lines = src.split('\n'); i = 0
    while i < len(lines):
        l = lines[i]
        if re.match(r'\s*#\[cfg\((all\()?test', l) and i + 1 < len(lines) and re.match(r'\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*(\{|;)', lines[i+1]):
            if lines[i+1].rstrip().endswith(';'):
                i += 2; continue
            indent = len(l) - len(l.lstrip()); i += 2
            while i < len(lines) and not (lines[i].startswith(' ' * indent + '}') and len(lines[i].rstrip()) == indent + 1):
                i += 1
            i += 1; continue
        l = re.sub(r'//.*', '', l)
        l = re.sub(r'"(\\.|[^"\\])*"', '""', l)
        out.append(l); i += 1
    return '\n'.join(out)
srcs = {m: strip(open(os.path.join(root, f)).read()) for m, f in mods.items()}
test_only = set()
for m, f in mods.items():  # files declared only under cfg(test)
    if len(m) == 0: continue
    parent = m[:-1]; raw = open(os.path.join(root, mods[parent])).read() if parent in mods else ''
    if re.search(r'#\[cfg\((all\()?test[^\]]*\]\s*(pub(\(crate\))?\s+)?mod\s+' + m[-1] + r'\s*;', raw):
        test_only.add(m)
def use_items(src):
    """(path, is_pub) for each leaf of each use tree."""
    res = []
    for u in re.finditer(r'(\bpub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);', src):
        is_pub = bool(u.group(1)); tree = re.sub(r'\s+', '', u.group(2))
        def expand(prefix, t):
            if '{' not in t:
                for part in split_top(t): yield join(prefix, part)
                return
            for part in split_top(t):
                if '{' in part:
                    head, inner = part.split('{', 1); inner = inner[:-1]
                    yield from expand(join(prefix, head.rstrip(':')), inner)
                else: yield join(prefix, part)
        for pth in expand('', tree): res.append((re.sub(r'as\w+$', '', pth), is_pub))
    return res
def split_top(t):
    out, depth, cur = [], 0, ''
    for ch in t:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0: out.append(cur); cur = ''
        else: cur += ch
    if cur: out.append(cur)
    return [x for x in out if x]
def join(a, b):
    if b == 'self': return a
    return f'{a}::{b}' if a else b
reexp = {}
for m in mods:
    for pth, is_pub in use_items(srcs[m]):
        if is_pub: reexp.setdefault(m, {})[pth.split('::')[-1]] = pth
def resolve(cur, path, depth=0):
    segs = [s for s in path.split('::') if s]
    if not segs: return None
    if segs[0] == 'crate': base = []; segs = segs[1:]
    elif segs[0] in ('super', 'self'):
        base = list(cur)
        while segs and segs[0] in ('super', 'self'):
            if segs[0] == 'super': base = base[:-1]
            segs = segs[1:]
    elif tuple(list(cur) + [segs[0]]) in mods: base = list(cur)
    else: return None
    full = base + segs
    for k in range(len(full), -1, -1):
        if tuple(full[:k]) in mods:
            m = tuple(full[:k]); rest = full[k:]
            if rest and depth < 8 and rest[0] in reexp.get(m, {}):
                r = resolve(m, reexp[m][rest[0]] + ''.join('::' + x for x in rest[1:]), depth + 1)
                if r: return r
            return m
    return None
def inline_spans(src):
    """(start, end, name) of every inline `mod name { ... }`."""
    spans = []
    for mm in re.finditer(r'\bmod\s+(\w+)\s*\{', src):
        depth, i = 0, mm.end() - 1
        while i < len(src):
            if src[i] == '{': depth += 1
            elif src[i] == '}':
                depth -= 1
                if depth == 0: break
            i += 1
        spans.append((mm.start(), i, mm.group(1)))
    return spans
def scope(m, spans, pos):
    inner = [n for (a, b, n) in sorted(spans) if a <= pos <= b]
    return tuple(list(m) + inner), len(inner)
def resolve_in(m, spans, pos, pth):
    cur, k = scope(m, spans, pos)
    if k:
        mods_saved = dict(mods); mods[cur] = mods[m]  # the inline module lives in this file
        for j in range(1, k): mods[cur[:len(m) + j]] = mods[m]
        r = resolve(cur, pth)
        mods.clear(); mods.update(mods_saved)
        if r is not None and len(r) > len(m) and r[:len(m)] == m and r not in mods: r = m
        return r
    return resolve(m, pth)
edges = {}
for m in mods:
    if m in test_only: continue
    src = srcs[m]; tg = set(); spans = inline_spans(src)
    for u in re.finditer(r'(\bpub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);', src):
        for pth, _ in use_items(u.group(0)):
            r = resolve_in(m, spans, u.start(), pth)
            if r is not None: tg.add(r)
    for u in re.finditer(r'(?<![\w:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::\w+)+)', src):
        r = resolve_in(m, spans, u.start(), u.group(1))
        if r is not None: tg.add(r)
    tg.discard(m); tg -= test_only
    edges[m] = tg
name = lambda m: mods[m]
for m in sorted(edges, key=name):
    print(f"{name(m)} -> {', '.join(sorted(name(t) for t in edges[m])) or '-'}")
idx, low, st, on, sccs, c = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        s = []
        while True:
            w = st.pop(); on.discard(w); s.append(w)
            if w == v: break
        if len(s) > 1: sccs.append(s)
for v in edges:
    if v not in idx: sc(v)
print("CYCLES:", [[name(x) for x in s] for s in sccs] or "none")

# The layers, bottom first (core/src/backend/README.md): a file may import
# only files of its own layer or below. The first matching pattern wins.
LAYERS = [
    ('error.rs wipe.rs ct.rs', 0),
    ('backend/layout.rs backend/tier.rs backend/tuning.rs backend/x86/mod.rs '
     'backend/aarch64/mod.rs backend/portable/mod.rs', 10),
    ('backend/x86/select.rs backend/aarch64/select.rs', 13),
    ('backend/portable/ backend/x86/ backend/aarch64/', 11),
    ('backend/dispatch.rs backend/cipher.rs', 12),
    ('backend/select.rs', 14),
    ('backend/active.rs', 15),
    ('backend/mod.rs', 16),
    ('scrub/size.rs', 20), ('scrub/mod.rs', 21), ('scrub/', 22),
    ('mac/mod.rs', 30), ('mac/', 31),
    ('cipher/parts.rs', 33), ('cipher/gcm.rs cipher/ccm.rs', 34), ('cipher/mod.rs', 35),
    ('kdf.rs', 40),
    ('smb2/header.rs', 50), ('smb2/chain.rs', 51), ('smb2/rules.rs', 52),
    ('smb2/algorithm.rs smb2/transform.rs smb2/encryption.rs', 52), ('smb2/mod.rs', 53),
    ('preauth.rs', 55),
    ('batch/item.rs batch/lanes.rs', 60), ('batch/cmac.rs batch/hmac.rs batch/gmac.rs batch/ccm.rs', 61),
    ('batch/engine.rs', 62), ('batch/pdu.rs batch/cipher.rs batch/transform.rs', 63), ('batch/mod.rs', 64),
    ('lib.rs', 90),
]
def layer(f):
    for pats, n in LAYERS:
        for p in pats.split():
            if f == p or (p.endswith('/') and f.startswith(p)): return n
    return None
if root.rstrip('/').endswith('core/src'):
    up = [(name(a), name(b)) for a in edges for b in edges[a]
          if layer(name(a)) is None or layer(name(b)) is None or layer(name(b)) > layer(name(a))]
    unplaced = sorted(name(m) for m in edges if layer(name(m)) is None)
    print("UNPLACED:", unplaced or "none")
    print("UPWARD:", up or "none")
    sys.exit(1 if sccs or up or unplaced else 0)
sys.exit(1 if sccs else 0)
