/* The serial console's line settings: Node has no way to set a baud rate,
 * so the console asks the library. Raw mode, one rate for both directions,
 * a strict framing ("8N1" ...), no modem control or flow control. */
#include <errno.h>
#include <string.h>
#include <termios.h>

#include "vg.h"

static const struct {
  uint32_t baud;
  speed_t speed;
} rates[] = {
    {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200},   {230400, B230400},
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B500000
    {500000, B500000},
#endif
#ifdef B576000
    {576000, B576000},
#endif
#ifdef B921600
    {921600, B921600},
#endif
#ifdef B1000000
    {1000000, B1000000},
#endif
#ifdef B1152000
    {1152000, B1152000},
#endif
#ifdef B1500000
    {1500000, B1500000},
#endif
#ifdef B2000000
    {2000000, B2000000},
#endif
#ifdef B2500000
    {2500000, B2500000},
#endif
#ifdef B3000000
    {3000000, B3000000},
#endif
#ifdef B3500000
    {3500000, B3500000},
#endif
#ifdef B4000000
    {4000000, B4000000},
#endif
};

/* Data bits, parity and stop bits, as the c_cflag bits they set. */
static const struct {
  const char *name;
  tcflag_t cflag;
} modes[] = {
    {"8N1", CS8},
    {"8N2", CS8 | CSTOPB},
    {"8E1", CS8 | PARENB},
    {"8O1", CS8 | PARENB | PARODD},
    {"7E1", CS7 | PARENB},
    {"7O1", CS7 | PARENB | PARODD},
};

int vg_tty_termios(struct termios *t, uint32_t baud, const char *mode) {
  size_t r = 0, m = 0;
  while (r < VG_ARRAY_LEN(rates) && rates[r].baud != baud) r++;
  if (r == VG_ARRAY_LEN(rates))
    return vg_error(VG_E_INVAL, "tty: %u baud is not a standard rate (1200, 2400, 4800, 9600, 19200, "
                                "38400, 57600, 115200, 230400 ... 4000000)", baud);
  if (!mode || !*mode) mode = "8N1";
  while (m < VG_ARRAY_LEN(modes) && strcmp(modes[m].name, mode) != 0) m++;
  if (m == VG_ARRAY_LEN(modes))
    return vg_error(VG_E_INVAL, "tty: mode '%.16s' is not one of 8N1, 8N2, 8E1, 8O1, 7E1, 7O1", mode);
  cfmakeraw(t);
  if (cfsetispeed(t, rates[r].speed) != 0 || cfsetospeed(t, rates[r].speed) != 0)
    return vg_error(VG_E_INVAL, "tty: %u baud: %s", baud, strerror(errno));
  t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
  t->c_cflag |= modes[m].cflag | CLOCAL | CREAD;
  if (modes[m].cflag & PARENB) t->c_iflag |= INPCK;
  else t->c_iflag &= ~(tcflag_t)INPCK;
  t->c_cc[VMIN] = 1;
  t->c_cc[VTIME] = 0;
  return 0;
}

int vg_tty_configure(int fd, uint32_t baud, const char *mode) {
  struct termios t;
  memset(&t, 0, sizeof t);
  int rc = vg_tty_termios(&t, baud, mode); /* arguments first: a bad one changes nothing */
  if (rc) return rc;
  if (tcgetattr(fd, &t) != 0) return vg_error(VG_E_IO, "tty: fd %d: %s", fd, strerror(errno));
  vg_tty_termios(&t, baud, mode);
  if (tcsetattr(fd, TCSANOW, &t) != 0)
    return vg_error(VG_E_IO, "tty: fd %d: cannot apply %u %s: %s", fd, baud, mode && *mode ? mode : "8N1",
                    strerror(errno));
  return 0;
}
