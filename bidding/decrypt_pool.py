"""Bid opening on every core: an age STREAM payload decrypted by worker processes.

Why processes: pyca/cryptography keeps the GIL while it opens a chunk, so threads never use a
second core, and a decrypting thread also starves the server's event loop.  The payload's chunks
are independent once the payload key is known (nonce = chunk counter || last-chunk flag), so
workers may open them side by side while the caller keeps their order.

Data path.  When the envelope is a regular file (local storage) and the caller wants only a prefix
of the plaintext (the bid form), the file's descriptor goes to the workers (SCM_RIGHTS) with one
contiguous range of chunks each; a worker maps its range a slot (16 chunks) at a time, read-only,
and authenticates it straight from the page cache, into one chunk-sized buffer that stays in its
cache, and answers once.  No copy before the cipher, and no round trip per slot: on a busy machine
a worker never waits for the caller to be scheduled.  The calling thread meanwhile opens the
prefix itself.  Any other reader (a remote object store), or a caller that wants all of the
plaintext, goes through the slots of one shared memory file (memfd): the calling thread
``readinto``s the ciphertext into a slot's input half (one copy, as in the sequential decoder), a
worker decrypts it into the output half.  Memory is fixed whatever the envelope size:
``slots × (SLOT_IN + SLOT_OUT)``, about 6 MiB per worker, and one mapped slot per worker.

Semantics: :meth:`DecryptPool.decrypt` returns True only if the payload is one that
``envelope.decrypt_payload`` accepts, and then the sink has received exactly its plaintext, in
order, each slot after it authenticated.  On anything else (damage, truncation, trailing data, a
worker gone) it returns False and the caller reruns the sequential decoder, which stays the one
authority on errors and their messages.  A mapped file must not change while it is read (stored
blobs are content-addressed and immutable); if one is cut short anyway, only the worker dies
(SIGBUS) and the sequential decoder reports the truncation.

Run as ``python -m bidding.decrypt_pool <socket fd> <memfd> <size>`` it is a worker (started by
the pool only).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import mmap
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from bidding.envelope._io import Sink, Source
from bidding.envelope.stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE, TAG_SIZE, payload_key

__all__ = ["DecryptPool", "shared_pool"]

log = logging.getLogger("tenderhall.opening")

SLOT_CHUNKS = 16  # 1 MiB of plaintext per message: the socket round trip is noise next to it
SLOT_IN = SLOT_CHUNKS * ENC_CHUNK_SIZE
SLOT_OUT = SLOT_CHUNKS * CHUNK_SIZE
SLOT_SIZE = SLOT_IN + SLOT_OUT
SLOTS_PER_WORKER = 3  # one being decrypted, one queued, one being read or written out
MAX_WORKERS = 4
# op, slot (or worker), ciphertext length, first chunk counter, final, keep the plaintext, file
# offset, payload key; a range carries the file's descriptor (SCM_RIGHTS)
_REQUEST = struct.Struct("<cIQQ??Q32s")
_REPLY = struct.Struct("<I?I")  # slot, authenticated, plaintext length
_SLOT, _RANGE = b"S", b"R"


class _Broken(Exception):
    """A worker died or answered out of turn: the pool is stopped and rebuilt on next use."""


def _fill(src: Source, view: memoryview) -> int:
    pos = 0
    while pos < len(view):
        got = src.readinto(view[pos:])
        if not got:
            break
        pos += got
    return pos


def _mapped_file(src: Source) -> tuple[int, int] | None:
    """(descriptor, position) when ``src`` is a regular file the workers can map themselves."""
    fileno, tell = getattr(src, "fileno", None), getattr(src, "tell", None)
    if fileno is None or tell is None:
        return None
    try:
        fd = fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return fd, tell()
    except (OSError, ValueError):
        return None


class DecryptPool:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.slots = workers * SLOTS_PER_WORKER
        self._lock = threading.Lock()  # one payload at a time: it already keeps every core busy
        self._procs: list[subprocess.Popen[bytes]] = []
        self._socks: list[socket.socket] = []
        self._map: mmap.mmap | None = None
        self._pid = 0
        self.disabled = False  # the workers could not start here: callers decode sequentially

    # -- life cycle ---------------------------------------------------------------------------
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def start(self) -> bool:
        """Start the workers (done on first use anyway); False if they cannot run here."""
        if self._procs and self._pid == os.getpid():
            return True
        self._procs, self._socks, self._map = [], [], None  # inherited through a fork: not ours
        size = self.slots * SLOT_SIZE
        memfd = os.memfd_create("tenderhall-opening")
        try:
            os.ftruncate(memfd, size)
            self._map = mmap.mmap(memfd, size)
            for _ in range(self.workers):
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                with theirs:
                    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                        [
                            sys.executable,
                            "-m",
                            "bidding.decrypt_pool",
                            *map(str, (theirs.fileno(), memfd, size)),
                        ],
                        stdin=subprocess.DEVNULL,
                        pass_fds=(theirs.fileno(), memfd),
                    )
                self._procs.append(proc)
                self._socks.append(ours)
                if ours.recv(_REPLY.size) != _REPLY.pack(0, True, 0):
                    raise _Broken("worker did not start")
        except (OSError, _Broken):
            log.warning("decrypt workers unavailable: bids are opened in one thread", exc_info=True)
            self.stop()
            self.disabled = True
            return False
        finally:
            os.close(memfd)
        self._pid = os.getpid()
        return True

    def stop(self) -> None:
        procs, socks, self._procs, self._socks = self._procs, self._socks, [], []
        for sock in socks:
            sock.close()  # end of requests: the worker exits
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._map is not None:
            self._map.close()
            self._map = None

    # -- decrypting -----------------------------------------------------------------------------
    def decrypt(self, src: Source, sink: Sink, file_key: bytes, prefix: int | None = None) -> bool:
        """Decrypt the payload in ``src`` (positioned after the header) into ``sink``; with
        ``prefix``, only the first ``prefix`` bytes of plaintext go to ``sink``, the rest is
        authenticated only (and never leaves a worker's cache: no memory traffic for it).

        True: the payload is valid and ``sink`` holds its plaintext.  False: nothing can be
        concluded (``sink`` holds a prefix to discard); decode sequentially for the verdict.
        """
        with self._lock:
            if self.disabled or not self.start():
                return False
            try:
                return self._run(src, sink, file_key, prefix)
            except (_Broken, OSError):
                self.stop()
                return False

    def _send(self, seq: int, message: bytes, fd: int | None = None) -> None:
        sock = self._socks[seq % self.workers]
        if fd is None:
            sock.sendall(message)
        else:
            socket.send_fds(sock, [message], [fd])

    def _reply(self, seq: int) -> tuple[bool, int]:
        data = self._socks[seq % self.workers].recv(_REPLY.size)
        if len(data) != _REPLY.size:
            raise _Broken("worker gone")
        got, ok, produced = _REPLY.unpack(data)
        if got != seq % self.slots:
            raise _Broken("reply out of turn")
        return ok, produced

    def _run(self, src: Source, sink: Sink, file_key: bytes, prefix: int | None) -> bool:
        nonce = bytearray(NONCE_SIZE)
        if _fill(src, memoryview(nonce)) != NONCE_SIZE:
            return False
        key = payload_key(file_key, bytes(nonce))
        mapped = _mapped_file(src) if prefix is not None else None
        if mapped is not None and prefix is not None:
            return self._run_ranges(src, mapped, sink, key, prefix)
        return self._run_slots(src, sink, key, prefix)

    def _run_ranges(self, src: Source, mapped: tuple[int, int], sink: Sink, key: bytes, prefix: int) -> bool:
        """A file, of which only a prefix of plaintext is wanted: each worker authenticates one
        contiguous range of chunks on its own (one message there, one back: nothing to wait for
        in between, even on a busy machine) while this thread opens the prefix."""
        fd, start = mapped
        total = os.fstat(fd).st_size - start
        if total <= 0:
            return False  # no chunk at all: the sequential decoder says why
        chunks = -(-total // ENC_CHUNK_SIZE)
        head = min(chunks, -(-prefix // CHUNK_SIZE))
        share = -(-(chunks - head) // self.workers)
        sent: list[int] = []
        ok = True
        try:
            for w in range(self.workers):
                first, end = head + w * share, min(chunks, head + (w + 1) * share)
                if first >= end:
                    break
                offset = start + first * ENC_CHUNK_SIZE
                length = min(start + total, start + end * ENC_CHUNK_SIZE) - offset
                self._send(w, _REQUEST.pack(_RANGE, w, length, first, end == chunks, False, offset, key), fd)
                sent.append(w)
            if head:
                data = bytearray(min(total, head * ENC_CHUNK_SIZE))
                out = bytearray(head * CHUNK_SIZE)
                ok = _fill(src, memoryview(data)) == len(data)
                if ok:
                    aead = ChaCha20Poly1305(key)
                    ok, produced = _open_slot(
                        aead, memoryview(data), memoryview(out), 0, head == chunks, bytearray(12), _scratch()
                    )
                    if ok:
                        sink.write(memoryview(out)[: min(produced, prefix)])
        finally:
            for w in sent:
                good, _ = self._reply(w)
                ok = ok and good
        return ok

    def _run_slots(self, src: Source, sink: Sink, key: bytes, prefix: int | None) -> bool:
        """Any reader: read here into the shared slots, one slot read ahead to know which one is
        final; the plaintext comes back through the slots' output halves."""
        assert self._map is not None
        whole = memoryview(self._map)
        ins = [whole[i * SLOT_SIZE : i * SLOT_SIZE + SLOT_IN] for i in range(self.slots)]
        outs = [whole[i * SLOT_SIZE + SLOT_IN : (i + 1) * SLOT_SIZE] for i in range(self.slots)]
        pending: collections.deque[int] = collections.deque()  # sequence numbers sent, in order
        ok = True

        def keep(seq: int) -> bool:
            return prefix is None or seq * SLOT_OUT < prefix

        def collect() -> bool:
            seq = pending.popleft()
            good, produced = self._reply(seq)
            if good and ok and keep(seq):
                wanted = produced if prefix is None else min(produced, prefix - seq * SLOT_OUT)
                sink.write(outs[seq % self.slots][:wanted])
            return good

        try:
            seq = following = 0
            have = _fill(src, ins[0])
            if have == 0:
                return False  # no chunk at all: the sequential decoder says why
            while True:
                final = have < SLOT_IN
                if not final:
                    while ok and len(pending) > self.slots - 2:  # free the slot to read into
                        ok = collect()
                    if not ok:
                        break
                    following = _fill(src, ins[(seq + 1) % self.slots])
                    final = following == 0
                request = _REQUEST.pack(
                    _SLOT, seq % self.slots, have, seq * SLOT_CHUNKS, final, keep(seq), 0, key
                )
                self._send(seq, request)
                pending.append(seq)
                if final:
                    break
                seq += 1
                have = following
            while pending:
                ok = collect() and ok
            return ok
        finally:
            with contextlib.suppress(_Broken, OSError):
                while pending:  # keep every socket in step even when giving up early
                    self._reply(pending.popleft())
            for view in (*ins, *outs):
                view.release()
            whole.release()


_SHARED: DecryptPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool() -> DecryptPool | None:
    """The process's pool, started on first use; None on a single core (nothing to gain)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            if cores < 2 or not hasattr(os, "memfd_create"):
                return None  # one core: nothing to gain; no memfd: not Linux
            _SHARED = DecryptPool(min(cores, MAX_WORKERS))
            atexit.register(_SHARED.stop)
        return None if _SHARED.disabled else _SHARED


# -- the worker ------------------------------------------------------------------------------------


def _scratch() -> memoryview:
    return memoryview(bytearray(CHUNK_SIZE))


def _open_slot(
    aead: ChaCha20Poly1305,
    data: memoryview,
    out: memoryview | None,
    counter: int,
    final: bool,
    nonce: bytearray,
    scratch: memoryview,
) -> tuple[bool, int]:
    """Open the chunks of one slot; the chunk layout is the sequential decoder's: every chunk
    full but the payload's last, which is 1..64 KiB (empty only if it is the only one).  Without
    ``out`` each chunk is opened into ``scratch`` (one chunk: it stays in the cache)."""
    pos = produced = 0
    while pos < len(data):
        size = min(ENC_CHUNK_SIZE, len(data) - pos)
        last = final and pos + size == len(data)
        if (size != ENC_CHUNK_SIZE and not last) or size < TAG_SIZE:
            return False, produced
        if last and size == TAG_SIZE and counter > 0:
            return False, produced
        nonce[:11] = counter.to_bytes(11, "big")
        nonce[11] = 1 if last else 0
        try:
            n = size - TAG_SIZE
            target = scratch[:n] if out is None else out[produced : produced + n]
            aead.decrypt_into(nonce, data[pos : pos + size], None, target)
        except InvalidTag:
            return False, produced
        pos += size
        produced += size - TAG_SIZE
        counter += 1
    return True, produced


def _open_range(
    aead: ChaCha20Poly1305,
    fd: int,
    offset: int,
    length: int,
    counter: int,
    final: bool,
    nonce: bytearray,
    scratch: memoryview,
) -> tuple[bool, int]:
    """Authenticate ``length`` bytes of chunks of the file at ``offset``, mapping one slot at a
    time so that what was read does not stay mapped (resident size stays flat)."""
    if os.fstat(fd).st_size < offset + length:
        return False, 0  # the file was cut after the range was planned
    end, done = offset + length, 0
    while offset < end:
        size = min(SLOT_IN, end - offset)
        aligned = offset - offset % mmap.ALLOCATIONGRANULARITY
        with (
            mmap.mmap(
                fd,
                offset + size - aligned,
                mmap.MAP_SHARED | mmap.MAP_POPULATE,
                mmap.PROT_READ,
                offset=aligned,
            ) as mapped,
            memoryview(mapped) as whole,
            whole[offset - aligned :] as data,
        ):
            ok, produced = _open_slot(
                aead, data, None, counter, final and offset + size == end, nonce, scratch
            )
        done += produced
        if not ok:
            return False, done
        offset += size
        counter += SLOT_CHUNKS
    return True, done


def _serve(sock: socket.socket, memfd: int, size: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's; we end when it closes
    shared = memoryview(mmap.mmap(memfd, size))
    os.close(memfd)
    nonce, scratch = bytearray(12), _scratch()
    aead, aead_key = None, b""
    sock.sendall(_REPLY.pack(0, True, 0))
    while True:
        message, fds, _flags, _addr = socket.recv_fds(sock, _REQUEST.size, 1)
        if len(message) != _REQUEST.size:
            return  # the pool closed the socket
        op, slot, length, counter, final, keep, offset, key = _REQUEST.unpack(message)
        if aead is None or key != aead_key:
            aead, aead_key = ChaCha20Poly1305(key), key
        if op == _RANGE:
            try:
                ok, produced = _open_range(aead, fds[0], offset, length, counter, final, nonce, scratch)
            finally:
                for fd in fds:
                    os.close(fd)
        else:
            base = slot * SLOT_SIZE
            out = shared[base + SLOT_IN : base + SLOT_SIZE] if keep else None
            ok, produced = _open_slot(aead, shared[base : base + length], out, counter, final, nonce, scratch)
        sock.sendall(_REPLY.pack(slot, ok, produced))


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]))
