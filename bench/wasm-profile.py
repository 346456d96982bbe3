#!/usr/bin/env python3
"""What the browser's WASM is made of: code bytes by crate, and the largest functions.

Reads the module cargo builds before wasm-bindgen and wasm-opt (it still has its name section):
  cargo leptos build --release --frontend-only
  python3 bench/wasm-profile.py [target/front/wasm32-unknown-unknown/wasm-release/app.wasm]
Sizes are of code before wasm-opt; the shipped file is smaller, in about the same proportions.
"""
import collections
import re
import sys

DEFAULT = "target/front/wasm32-unknown-unknown/wasm-release/app.wasm"


def leb(b, i):
    result = shift = 0
    while True:
        byte = b[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def read(path):
    """(function body sizes in order, function names by index, number of imported functions)"""
    data = open(path, "rb").read()
    i, bodies, names, imported = 8, [], {}, 0
    while i < len(data):
        section = data[i]
        size, i = leb(data, i + 1)
        end = i + size
        if section == 2:  # imports: functions come first in the index space
            count, j = leb(data, i)
            for _ in range(count):
                for _ in range(2):  # module and field names
                    n, j = leb(data, j)
                    j += n
                kind = data[j]
                j += 1
                if kind == 0:
                    _, j = leb(data, j)
                    imported += 1
                elif kind in (1, 2):  # table (with its element type) or memory: limits
                    j += kind == 1
                    flags = data[j]
                    _, j = leb(data, j + 1)
                    if flags & 1:
                        _, j = leb(data, j)
                else:  # global
                    j += 2
        elif section == 10:
            count, j = leb(data, i)
            for _ in range(count):
                n, j = leb(data, j)
                bodies.append(n)
                j += n
        elif section == 0:
            n, j = leb(data, i)
            if data[j:j + n] == b"name":
                j += n
                while j < end:
                    sub = data[j]
                    n, j = leb(data, j + 1)
                    if sub == 1:
                        count, k = leb(data, j)
                        for _ in range(count):
                            index, k = leb(data, k)
                            m, k = leb(data, k)
                            names[index] = data[k:k + m].decode("utf8", "replace")
                            k += m
                    j += n
        i = end
    return bodies, names, imported


def crate_of(name):
    """The crate a mangled name belongs to: its path's first segment, or for an impl
    (`<Type as Trait>::f`) the type's crate, or the trait's when the type is a generic `T`."""
    if name.startswith("_R"):  # v0 mangling: the crate root is `C<disambiguator>_<len><name>`
        m = re.search(r"C[sC]?\w*?_(\d+)", name)
        if m:
            start = m.end()
            return name[start:start + int(m.group(1))]
        return "(other)"
    m = re.match(r"_ZN(\d+)", name)
    if not m:
        return "(other)"
    first = name[m.end():m.end() + int(m.group(1))]
    if "$LT$" not in first:
        return first
    text = first.replace("$u20$", " ").replace("$RF$", "&")
    self_type, _, trait = text.partition(" as ")
    crate = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.\.", self_type)
    if crate is None:  # a generic `T`, a primitive: the trait's crate
        crate = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.\.", trait)
    return crate.group(1) if crate else "(other)"


def main():
    bodies, names, imported = read(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    total = sum(bodies)
    by_crate = collections.Counter()
    for index, size in enumerate(bodies):
        by_crate[crate_of(names.get(index + imported, ""))] += size
    print(f"code: {total / 1024:.1f} KiB in {len(bodies)} functions")
    for crate, size in by_crate.most_common(20):
        print(f"{size / 1024:9.1f} KiB {100 * size / total:5.1f}%  {crate}")
    print("largest functions:")
    for size, index in sorted(((s, i) for i, s in enumerate(bodies)), reverse=True)[:15]:
        print(f"{size:9d}  {names.get(index + imported, '?')[:120]}")


main()
