/* sd_notify(3) without libsystemd or systemd-notify: one datagram on the
 * unix socket systemd names in $NOTIFY_SOCKET. Node has no unix datagram
 * sockets, so the datagram goes through libc with koffi (socket, sendto);
 * it comes from this process, so the unit's NotifyAccess=main accepts it.
 *
 * The watchdog (WatchdogSec=) is fed at half the period systemd asks for,
 * and only while the caller's health check holds: a dataplane whose threads
 * stopped stops feeding it, and systemd restarts the service. */
import koffi from 'koffi';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000; /* the same on x86-64, arm64 and ppc64le */
const SUN_PATH_MAX = 108;

interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  sendto: (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number) => number;
  close: (fd: number) => number;
}

let libc: Libc | undefined;
function load(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    socket: lib.func('int socket(int, int, int)'),
    sendto: lib.func('intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)'),
    close: lib.func('int close(int)'),
  };
  return libc;
}

/* struct sockaddr_un for a path, or an abstract name written "@name". */
function sockaddr(socketPath: string): { addr: Buffer; len: number } {
  const abstract = socketPath.startsWith('@');
  const name = Buffer.from(abstract ? `\0${socketPath.slice(1)}` : socketPath);
  if (name.length >= SUN_PATH_MAX) throw new Error(`NOTIFY_SOCKET ${socketPath} is longer than a unix socket path`);
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0); /* sa_family_t is host order: every target here is little-endian */
  name.copy(addr, 2);
  return { addr, len: 2 + name.length + (abstract ? 0 : 1) };
}

/* Sends "READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=..." (newline-separated
 * for several). False when there is no NOTIFY_SOCKET (not under systemd). */
export function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): boolean {
  if (!socketPath) return false;
  const c = load();
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error('sd_notify: socket(AF_UNIX, SOCK_DGRAM) failed');
  try {
    const { addr, len } = sockaddr(socketPath);
    const msg = Buffer.from(state);
    if (c.sendto(fd, msg, msg.length, 0, addr, len) !== msg.length) throw new Error(`sd_notify: sendto ${socketPath} failed`);
  } finally {
    c.close(fd);
  }
  return true;
}

/* The watchdog period systemd asks for (WATCHDOG_USEC, for this PID), in ms. */
export function watchdogMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!(usec > 0)) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
  return usec / 1000;
}

/* Feeds the watchdog while healthy() holds; returns the function that stops it. */
export function startWatchdog(healthy: () => boolean, onError: (e: Error) => void): () => void {
  const period = watchdogMs();
  if (period === undefined) return () => {};
  const timer = setInterval(() => {
    try {
      if (healthy()) sdNotify('WATCHDOG=1');
    } catch (e) {
      onError(e as Error);
    }
  }, Math.max(100, period / 2));
  timer.unref();
  return () => clearInterval(timer);
}
