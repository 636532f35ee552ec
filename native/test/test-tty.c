/* The serial console's line settings, on a pseudo-terminal: what
 * tcgetattr reads back after vg_tty_configure. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "test-util.h"
#include "test.h"

/* A pseudo-terminal: returns the slave's descriptor, the master's in *master. */
static int pty_open(int *master) {
  *master = posix_openpt(O_RDWR | O_NOCTTY);
  if (*master < 0 || grantpt(*master) != 0 || unlockpt(*master) != 0) {
    test_fail(__FILE__, __LINE__, "posix_openpt: %s", strerror(errno));
    return -1;
  }
  const char *name = ptsname(*master);
  int fd = name ? open(name, O_RDWR | O_NOCTTY) : -1;
  if (fd < 0) test_fail(__FILE__, __LINE__, "open %s: %s", name ? name : "(no name)", strerror(errno));
  return fd;
}

static struct termios settings(int fd) {
  struct termios t;
  memset(&t, 0, sizeof t);
  if (tcgetattr(fd, &t) != 0) test_fail(__FILE__, __LINE__, "tcgetattr: %s", strerror(errno));
  return t;
}

TEST(tty_configure_sets_raw_mode_speed_and_framing) {
  int master, fd = pty_open(&master);
  REQUIRE(fd >= 0);
  CHECK_EQ(vg_tty_configure(fd, 115200, "8N1"), 0);
  struct termios t = settings(fd);
  CHECK(cfgetospeed(&t) == B115200 && cfgetispeed(&t) == B115200);
  CHECK_EQ(t.c_cflag & CSIZE, CS8);
  CHECK_EQ(t.c_cflag & (PARENB | CSTOPB | CRTSCTS), 0);
  CHECK_EQ(t.c_cflag & (CLOCAL | CREAD), CLOCAL | CREAD);
  CHECK_EQ(t.c_lflag & (ICANON | ECHO | ISIG), 0);
  CHECK_EQ(t.c_oflag & OPOST, 0);
  CHECK_EQ(t.c_iflag & (ICRNL | IXON | INPCK), 0);
  CHECK_EQ(t.c_cc[VMIN], 1);
  CHECK_EQ(t.c_cc[VTIME], 0);

  /* A pseudo-terminal keeps the speed and stop bits, but is always 8 bits
   * without parity (the kernel's pty_set_termios): the framing that reaches
   * tcsetattr is read from vg_tty_termios. */
  CHECK_EQ(vg_tty_configure(fd, 9600, "7E1"), 0);
  t = settings(fd);
  CHECK(cfgetospeed(&t) == B9600);
  CHECK(t.c_iflag & INPCK); /* parity is checked */
  CHECK_EQ(vg_tty_configure(fd, 1200, "8N2"), 0);
  t = settings(fd);
  CHECK(cfgetospeed(&t) == B1200);
  CHECK_EQ(t.c_cflag & (CSIZE | PARENB | CSTOPB), CS8 | CSTOPB);
  CHECK_EQ(t.c_iflag & INPCK, 0);
  CHECK_EQ(vg_tty_configure(fd, 4000000, NULL), 0); /* NULL: 8N1 */
  t = settings(fd);
  CHECK_EQ(t.c_cflag & (CSIZE | PARENB | CSTOPB), CS8);
  static const struct {
    const char *mode;
    tcflag_t cflag;
  } framing[] = {{"", CS8}, {"8N1", CS8}, {"8N2", CS8 | CSTOPB}, {"8E1", CS8 | PARENB},
                 {"8O1", CS8 | PARENB | PARODD}, {"7E1", CS7 | PARENB}, {"7O1", CS7 | PARENB | PARODD}};
  for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++) {
    memset(&t, 0xff, sizeof t); /* every bit set before: each must be cleared or set */
    CHECK_EQ(vg_tty_termios(&t, 19200, framing[i].mode), 0);
    CHECK_EQ(t.c_cflag & (CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS | CLOCAL | CREAD),
             framing[i].cflag | CLOCAL | CREAD);
    CHECK_EQ(!!(t.c_iflag & INPCK), !!(framing[i].cflag & PARENB));
    CHECK(cfgetispeed(&t) == B19200 && cfgetospeed(&t) == B19200);
  }
  /* A refused setting changes nothing. */
  CHECK_EQ(vg_tty_configure(fd, 12345, "8N1"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "12345 baud is not a standard rate");
  CHECK_EQ(vg_tty_configure(fd, 115200, "8n1"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "mode '8n1' is not one of 8N1, 8N2, 8E1, 8O1, 7E1, 7O1");
  CHECK_EQ(vg_tty_configure(fd, 115200, "8N1 "), VG_E_INVAL);
  CHECK_EQ(vg_tty_configure(fd, 115200, "7N1"), VG_E_INVAL);
  t = settings(fd);
  CHECK_EQ(t.c_cflag & (CSIZE | PARENB | CSTOPB), CS8);
  close(fd);
  close(master);
}

TEST(tty_configure_refuses_what_is_not_a_terminal) {
  int fd = open(tmp_path("not-a-tty"), O_RDWR | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  CHECK_EQ(vg_tty_configure(fd, 115200, "8N1"), VG_E_IO);
  CHECK_STR_CONTAINS(vg_last_error(), strerror(ENOTTY));
  close(fd);
  CHECK_EQ(vg_tty_configure(fd, 115200, "8N1"), VG_E_IO); /* closed */
  CHECK_STR_CONTAINS(vg_last_error(), strerror(EBADF));
}
