"""Kernel-side filters for the pinger's raw ICMP sockets (icmp.pinger), which would otherwise be handed a copy of
every ICMP packet on the host. Linux only; no Django imports."""
from __future__ import annotations

import ctypes
import socket
import struct

# Linux option numbers that Python's socket module does not export.
SOL_RAW, ICMP_FILTER, ICMP6_FILTER, SO_ATTACH_FILTER = 255, 1, 1, 26
# Classic BPF instructions (linux/filter.h) used below
LDX_IP_HEADER_LENGTH = 0xB1  # BPF_LDX|BPF_B|BPF_MSH: X = 4 * (packet[k] & 0xf)
LOAD_HALF_AT_X = 0x48  # BPF_LD|BPF_H|BPF_IND: A = the 16 bits at X + k
LOAD_HALF = 0x28  # BPF_LD|BPF_H|BPF_ABS: A = the 16 bits at k
JUMP_IF_EQUAL = 0x15  # BPF_JMP|BPF_JEQ|BPF_K: A == k ? skip jt : skip jf
RETURN = 0x06  # BPF_RET|BPF_K: keep k bytes of the packet (0: drop it)


def echo_replies_only(sock: socket.socket, family: socket.AddressFamily) -> None:
    """Only echo replies: a raw socket would otherwise also queue every echo request looping back on lo (half the
    traffic of a loopback sweep) and all other ICMP."""
    if family == socket.AF_INET:  # ICMP_FILTER: bit set = type blocked (types 0-31)
        sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("=I", 0xFFFFFFFF & ~1))
        return
    words = [0xFFFFFFFF] * 8  # ICMP6_FILTER on Linux: bit set = type blocked (types 0-255)
    words[129 >> 5] &= ~(1 << (129 & 31))
    sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("=8I", *words))


def identifier_only(sock: socket.socket, family: socket.AddressFamily, ident: int) -> None:
    """Only packets carrying the ICMP identifier `ident` (a classic BPF program, as iputils' ping attaches): every
    raw socket gets a copy of every echo reply on the host, so each of N sweeps running at once (a worker's
    threads) would read and drop the replies of all the others in Python: three at once cost each about three
    times the CPU (docs/performance.md)."""
    load_ident = ([(LDX_IP_HEADER_LENGTH, 0, 0, 0), (LOAD_HALF_AT_X, 0, 0, 4)] if family == socket.AF_INET
                  else [(LOAD_HALF, 0, 0, 4)])  # an ICMPv6 raw socket sees no IP header
    program = [*load_ident, (JUMP_IF_EQUAL, 0, 1, ident), (RETURN, 0, 0, 0xFFFFFFFF), (RETURN, 0, 0, 0)]
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *instruction) for instruction in program))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HP", len(program), ctypes.addressof(code)))
