#!/usr/bin/env python3
"""Writes the seed corpora of the mm_calls and maple_txn fuzz targets (fuzz/corpus/).

Their inputs are decoded with the `arbitrary` crate (1.x, see Cargo.lock), whose encoding
this file mirrors: integers little-endian, a bool is a byte's low bit, an Option a bool and
then the value, an enum variant `i` of `n` a u32 `x` with `(x * n) >> 32 == i`, struct fields
in order, and the input's last field (a Vec) as elements each preceded by a true bool. The
variant lists below must follow the enums in fuzz_targets/ (an edit there means running this
again: `python3 fuzz/seeds.py`). Each seed is a realistic sequence; `cargo fuzz fmt TARGET
FILE` shows what one decodes to.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(v):
    return struct.pack("<B", v & 0xFF)


def i8(v):
    return struct.pack("<b", v)


def u16(v):
    return struct.pack("<H", v)


def i16(v):
    return struct.pack("<h", v)


def u32(v):
    return struct.pack("<I", v)


def i32(v):
    return struct.pack("<i", v)


def u64(v):
    return struct.pack("<Q", v)


def boolean(v):
    return b"\x01" if v else b"\x00"


def option(value):
    """`None`, or the encoded value."""
    return b"\x00" if value is None else b"\x01" + value


def variant(names, name, *fields):
    i, n = names.index(name), len(names)
    x = -(-(i << 32) // n)  # ceil(i * 2^32 / n)
    assert (x * n) >> 32 == i
    return u32(x) + b"".join(fields)


def rest_vec(items):
    return b"".join(b"\x01" + item for item in items)


# --- mm_calls ---------------------------------------------------------------------------------

ADDR = ["Arena", "ArenaByte", "Area", "Heap", "Special", "Raw"]
SPOT = ["Start", "End", "Middle", "AfterStart", "BeforeEnd", "BelowStart"]
SPECIAL = ["Zero", "OnePage", "MinAddr", "BelowMinAddr", "TaskSize", "TaskSizeLessPage", "MmapBase",
           "UnmappedBase", "Max", "MaxPage"]
LEN = ["Pages", "Bytes", "Huge", "NearMax", "ToAreaEnd", "Raw"]
PROT = ["Bits", "Raw"]
MAP_TYPE = ["Shared", "Private", "SharedValidate", "None", "Other"]
FLAGS = ["Known", "Raw"]
ADVICE = ["Known", "Raw"]
REMAP = ["Known", "Raw"]
BRK = ["Delta", "At"]
NAME = ["Clear", "Good", "Bad"]
CALL = ["Mmap", "Munmap", "Mprotect", "Madvise", "Mlock", "Mlock2", "Munlock", "Mseal", "Mremap", "Brk", "Fork",
        "Fault", "SetAnonName"]
# The target's ADVICE table, by name.
ADVICE_NUMBERS = ["normal", "random", "sequential", "willneed", "dontneed", "free", "remove", "dontfork", "dofork",
                  "mergeable", "unmergeable", "hugepage", "nohugepage", "dontdump", "dodump", "wipeonfork",
                  "keeponfork", "cold", "pageout", "populate_read", "populate_write", "dontneed_locked", "collapse",
                  "hwpoison", "soft_offline", "guard_install", "guard_remove"]


def setup(max_map_count=None, memlock_pages=None, no_ipc_lock=False, commit_pages=None, address_space_pages=None,
          stack_pages=None, bottom_up=False):
    return (option(None if max_map_count is None else u8(max_map_count)) +
            option(None if memlock_pages is None else u8(memlock_pages)) + boolean(no_ipc_lock) +
            option(None if commit_pages is None else u16(commit_pages)) +
            option(None if address_space_pages is None else u16(address_space_pages)) +
            option(None if stack_pages is None else u8(stack_pages)) + boolean(bottom_up))


def arena(page):
    return variant(ADDR, "Arena", u8(page))


def area(n, spot="Start", k=None):
    return variant(ADDR, "Area", u8(n), variant(SPOT, spot, *([] if k is None else [u8(k)])))


def heap(pages, below=False):
    return variant(ADDR, "Heap", u8(pages), boolean(below))


def special(name):
    return variant(ADDR, "Special", variant(SPECIAL, name))


def pages(n):
    return variant(LEN, "Pages", u8(n))


def nbytes(n):
    return variant(LEN, "Bytes", u16(n))


def to_area_end(extra=0):
    return variant(LEN, "ToAreaEnd", u8(extra))


def prot(text):
    """`"rw"`, `"r growsdown"`: letters, then PROT_GROWSDOWN if named."""
    letters, *extra = text.split()
    rwx = ("r" in letters) * 1 + ("w" in letters) * 2 + ("x" in letters) * 4
    return variant(PROT, "Bits", u8(rwx), boolean(False), boolean("growsdown" in extra), boolean(False))


def flags(kind, *mods):
    on = lambda m: boolean(m in mods)
    return variant(FLAGS, "Known", variant(MAP_TYPE, kind), on("fixed"), on("noreplace"), on("anonymous"),
                   on("growsdown"), on("locked"), on("noreserve"), on("populate"), on("nonblock"), on("stack"),
                   option(None))


def file_arg(which, read_only=False):
    return option(u8(which) + boolean(read_only) + boolean(False))


def mmap(addr, length, p, f, file=None, offset=None):
    return variant(CALL, "Mmap", addr, length, prot(p), f, file if file is not None else option(None),
                   offset if offset is not None else pages(0))


def anon(addr, length, p="rw", *mods):
    return mmap(addr, length, p, flags("Private", "anonymous", *mods))


def munmap(addr, length):
    return variant(CALL, "Munmap", addr, length)


def mprotect(addr, length, p):
    return variant(CALL, "Mprotect", addr, length, prot(p))


def madvise(addr, length, advice):
    return variant(CALL, "Madvise", addr, length, variant(ADVICE, "Known", u8(ADVICE_NUMBERS.index(advice))))


def mlock(addr, length):
    return variant(CALL, "Mlock", addr, length)


def mlock_onfault(addr, length):
    return variant(CALL, "Mlock2", addr, length, boolean(True), option(None))


def munlock(addr, length):
    return variant(CALL, "Munlock", addr, length)


def mseal(addr, length):
    return variant(CALL, "Mseal", addr, length, option(None))


def mremap(addr, old, new, maymove=False, fixed=False, dontunmap=False, new_addr=None):
    return variant(CALL, "Mremap", addr, old, new,
                   variant(REMAP, "Known", boolean(maymove), boolean(fixed), boolean(dontunmap)),
                   new_addr if new_addr is not None else arena(0))


def brk(pages_delta, extra_bytes=0):
    return variant(CALL, "Brk", variant(BRK, "Delta", i16(pages_delta), u16(extra_bytes)))


def fork(child=True):
    return variant(CALL, "Fork", boolean(child))


def fault(addr, write=True):
    return variant(CALL, "Fault", addr, boolean(write))


def name(addr, length, which=0):
    return variant(CALL, "SetAnonName", addr, length, variant(NAME, "Good", u8(which)))


MM_CALLS = {
    # A program starting: text and data of a file, anonymous bss, the heap, a thread stack.
    "startup": setup() + rest_vec([
        mmap(arena(0), pages(4), "rx", flags("Private", "fixed"), file_arg(0), pages(0)),
        mmap(arena(4), pages(2), "r", flags("Private", "fixed"), file_arg(0), pages(4)),
        mmap(arena(6), pages(2), "rw", flags("Private", "fixed"), file_arg(0), pages(6)),
        anon(arena(8), pages(8), "rw", "fixed"),
        brk(3, 100),
        fault(heap(1)),
        brk(8),
        anon(special("Zero"), pages(64), "rw", "stack", "noreserve"),
        fault(arena(9)),
        mprotect(arena(6), pages(1), "r"),
        fault(arena(0), write=False),
        munmap(arena(10), pages(2)),
        fork(child=True),
        fault(arena(8)),
    ]),
    # A growing stack below a guard gap, locked and advised.
    "stack": setup(stack_pages=32) + rest_vec([
        anon(arena(200), pages(8), "rw", "fixed", "growsdown"),
        fault(arena(199)),
        fault(arena(190)),
        anon(arena(100), pages(4), "r", "fixed"),
        fault(arena(180)),
        mlock(area(1, "Start"), pages(4)),
        madvise(area(1, "Start"), pages(2), "dontneed"),
        munlock(area(1, "Start"), pages(2)),
        mprotect(arena(196), pages(1), "r growsdown"),
        fork(child=False),
    ]),
    # mremap: grow in place, move, fixed moves, don't-unmap moves, shrink.
    "mremap": setup() + rest_vec([
        anon(arena(0), pages(4), "rw", "fixed"),
        fault(arena(1)),
        mremap(arena(0), pages(4), pages(8)),
        anon(arena(8), pages(2), "r", "fixed"),
        mremap(arena(0), pages(8), pages(16), maymove=True),
        mremap(area(0), pages(4), pages(4), maymove=True, fixed=True, new_addr=arena(64)),
        mremap(arena(64), pages(4), pages(4), maymove=True, dontunmap=True, new_addr=arena(128)),
        mremap(arena(128), pages(4), pages(1)),
        mremap(arena(8), pages(2), pages(2), maymove=True, fixed=True, new_addr=arena(66)),
    ]),
    # Sealing and guard pages against unmapping, protection and faults.
    "seal_guard": setup() + rest_vec([
        anon(arena(0), pages(16), "rw", "fixed"),
        mseal(arena(4), pages(4)),
        munmap(arena(2), pages(4)),
        mprotect(arena(0), pages(8), "r"),
        madvise(arena(10), pages(4), "guard_install"),
        fault(arena(11)),
        madvise(arena(10), pages(1), "guard_remove"),
        fault(arena(10)),
        fork(child=True),
        fault(arena(12), write=False),
        madvise(arena(0), pages(16), "dontneed"),
    ]),
    # Tight limits: few areas, little lockable memory, a commit limit.
    "limits": setup(max_map_count=6, memlock_pages=4, no_ipc_lock=True, commit_pages=64, address_space_pages=512) +
    rest_vec([
        anon(arena(0), pages(32), "rw", "fixed"),
        mprotect(arena(2), pages(1), "r"),
        mprotect(arena(6), pages(1), "r"),
        mprotect(arena(10), pages(1), "r"),
        mlock(arena(0), pages(8)),
        mlock_onfault(arena(0), pages(2)),
        anon(arena(40), pages(64), "rw", "fixed"),
        anon(arena(40), pages(16), "rw", "fixed", "noreserve"),
        brk(600),
        fork(child=True),
    ]),
    # Advice and names over several areas, with holes.
    "advice": setup(bottom_up=True) + rest_vec([
        anon(special("Zero"), pages(8), "rw"),
        anon(arena(0), pages(8), "rw", "fixed"),
        anon(arena(12), pages(8), "rw", "fixed"),
        name(arena(0), pages(20), 1),
        madvise(arena(2), pages(4), "dontfork"),
        madvise(arena(0), pages(20), "hugepage"),
        madvise(arena(12), pages(2), "wipeonfork"),
        madvise(arena(0), pages(8), "populate_write"),
        mmap(arena(30), pages(4), "rw", flags("Shared", "fixed"), file_arg(1), pages(0)),
        madvise(arena(30), pages(4), "remove"),
        fault(arena(33)),
        fork(child=True),
    ]),
}

# --- maple_txn --------------------------------------------------------------------------------

IDX = ["Small", "Top", "Boundary", "Raw"]
STEP = ["Store", "Insert", "Erase", "Clear", "Probe", "Gap", "Bulk", "Savepoint", "RollBack", "Keep", "Commit", "Drop",
        "FailAlloc"]


def small(i):
    return variant(IDX, "Small", u16(i))


def top(k):
    return variant(IDX, "Top", u8(k))


def edge(k, delta=0):
    return variant(IDX, "Boundary", u8(k), i8(delta))


def store(a, b, v):
    return variant(STEP, "Store", a, b, u8(v))


def insert(a, b, v):
    return variant(STEP, "Insert", a, b, u8(v))


def erase(a):
    return variant(STEP, "Erase", a)


def clear(a, b):
    return variant(STEP, "Clear", a, b)


def probe(a, b):
    return variant(STEP, "Probe", a, b)


def gap(a, b, size, lowest):
    return variant(STEP, "Gap", a, b, size, boolean(lowest))


def bulk(start, count, stride, length, is_clear=False, v=1):
    return variant(STEP, "Bulk", start, u8(count), u8(stride), u8(length), boolean(is_clear), u8(v))


def step(name, *fields):
    return variant(STEP, name, *fields)


MAPLE_TXN = {
    # A tree three levels deep, then holes punched into it, committed.
    "deep": rest_vec([
        bulk(small(0), 250, 9, 5),
        step("Commit"),
        bulk(small(3), 120, 19, 10, is_clear=True),
        probe(edge(7), edge(40)),
        gap(small(0), top(0), small(9), True),
        step("Commit"),
        erase(edge(11)),
        step("Commit"),
    ]),
    # Writes at both ends of the index space, inserts refused, a dropped transaction.
    "ends": rest_vec([
        store(small(0), small(0), 1),
        store(top(0), top(0), 2),
        insert(top(5), top(0), 3),
        store(top(10), top(3), 4),
        step("Commit"),
        clear(small(0), top(0)),
        probe(small(0), top(0)),
        step("Drop"),
        gap(small(1), top(1), top(20), False),
    ]),
    # Nested savepoints: rolled back, kept, and rolled back past, then committed.
    "savepoints": rest_vec([
        bulk(small(0), 40, 4, 1),
        step("Commit"),
        step("Savepoint"),
        bulk(small(2), 30, 4, 0, v=2),
        step("Savepoint"),
        clear(small(0), small(100)),
        step("RollBack", u8(1)),
        step("Savepoint"),
        insert(small(300), small(310), 3),
        step("Keep", u8(1)),
        step("Savepoint"),
        erase(edge(4)),
        step("RollBack", u8(0)),
        store(small(1000), small(1100), 4),
        step("Commit"),
    ]),
    # Allocation failures in the middle of a transaction.
    "alloc_failure": rest_vec([
        bulk(small(100), 60, 3, 1),
        step("Commit"),
        step("FailAlloc", u8(2)),
        step("Commit"),
        bulk(small(0), 200, 1, 0, v=7),
        store(small(50), small(5000), 9),
        step("Commit"),
        probe(edge(3), edge(9)),
    ]),
}


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("mm_calls", MM_CALLS)
    write("maple_txn", MAPLE_TXN)
