# vecgate A/B slot chooser for U-Boot (hush). Build: mkimage -A arm64 -T script -C none -d boot.cmd boot.scr
# Variables and rules: ota/README.md, "Slots and boot choosers"; src/ota/boot-chooser.ts
# (firmwareStep) is the same rules in TypeScript, and the agent writes these
# variables with fw_setenv. A trial is counted to at most 9 boots: the ladder
# below, and bootcount < bootlimit is a string comparison of one digit each,
# the same rules as grub.cfg (whose petitboot reading has no -lt).

# A blank environment is saved once, with U-Boot's defaults and the primary
# slot, so that fw_printenv in Linux reads a valid env from the first boot.
if env exists vecgate_slot; then vg_save=0; else setenv vecgate_slot A; vg_save=1; fi
if test "${vecgate_slot}" = B; then vg_slot=B; else vg_slot=A; fi

if test "${upgrade_available}" = 1; then
  if test -z "${bootcount}"; then setenv bootcount 0; fi
  vg_next=
  if test "${bootcount}" = 0; then vg_next=1; elif test "${bootcount}" = 1; then vg_next=2;
  elif test "${bootcount}" = 2; then vg_next=3; elif test "${bootcount}" = 3; then vg_next=4;
  elif test "${bootcount}" = 4; then vg_next=5; elif test "${bootcount}" = 5; then vg_next=6;
  elif test "${bootcount}" = 6; then vg_next=7; elif test "${bootcount}" = 7; then vg_next=8;
  elif test "${bootcount}" = 8; then vg_next=9; fi
  vg_ok=0
  vg_limit=
  for vg_d in 1 2 3 4 5 6 7 8 9; do if test "${bootlimit}" = "${vg_d}"; then vg_limit=${vg_d}; fi; done
  if test "${vecgate_trial}" = A || test "${vecgate_trial}" = B; then
    if test -n "${vg_next}" && test -n "${vg_limit}" && test "${bootcount}" "<" "${vg_limit}"; then vg_ok=1; fi
  fi
  if test "${vg_ok}" = 1; then
    setenv bootcount ${vg_next}
    vg_slot=${vecgate_trial}
    echo "vecgate: trying slot ${vg_slot}, boot ${bootcount} of ${bootlimit}"
  else
    echo "vecgate: slot ${vecgate_trial} failed ${bootlimit} boots, falling back to ${vg_slot}"
    setenv upgrade_available 0
    setenv vecgate_fellback ${vecgate_trial}
    setenv vecgate_trial
    setenv bootcount 0
  fi
  vg_save=1
fi
if test "${vg_save}" = 1; then saveenv; fi

# After saveenv: these live for this boot only.
setenv vecgate_booted ${vg_slot}
setenv bootargs "${bootargs} vecgate.slot=${vg_slot}"
echo "vecgate: booting slot ${vg_slot}"
# How the board starts Linux (the command in vecgate_bootlinux), else the
# kernel and initrd from the partition this script came from.
if env exists vecgate_bootlinux; then
  run vecgate_bootlinux
else
  if load ${devtype} ${devnum}:${distro_bootpart} ${kernel_addr_r} ${prefix}vmlinuz; then
    if load ${devtype} ${devnum}:${distro_bootpart} ${ramdisk_addr_r} ${prefix}initrd.img; then
      booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdt_addr}
    fi
  fi
fi
echo "vecgate: could not start Linux from slot ${vg_slot}"
