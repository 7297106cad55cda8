// Package host creates VM-like hosts on this machine: each host has its own
// network, mount, UTS and PID namespaces, a real sshd as its first process,
// private copies of the directories a database server writes, and optional
// loop-device disks. Tests and the local cloud use it as their "hypervisor".
//
// A Network is a bridge with a unique 10.2xx.y.0/24; the machine has the .1,
// hosts get .10 upwards and have no default route. A Host runs
// `ip netns exec <ns> unshare --mount --uts --pid --fork --kill-child
// --mount-proc --propagation private /bin/sh boot.sh`; boot.sh bind-mounts the
// host's private directories (/etc/mysql, /var/lib/mysql, /run/mysqld,
// /var/log/mysql, /root, /tmp, /etc/hostname, /etc/hosts, /etc/resolv.conf,
// /etc/fstab, /dev/disk, /mnt, /etc/ssh with the host's own key), runs
// `mount -a` on its private fstab and execs sshd as PID 1 (keys only, root
// with a key, no PAM). Everything else on the filesystem is the shared
// "image", so whatever a guest writes elsewhere is seen by every host and the
// machine. /dev is the machine's: attached disks appear as
// /dev/disk/by-id/virtio-<serial> symlinks to /dev/loopN. Rebuild (a
// powered-off host) makes the private state again, with a new host key, as
// a cloud's rebuild re-images a server's root disk; disks stay attached.
//
// Every child process is forked from one thread that never exits, with
// Pdeathsig=SIGKILL, so hosts die with the process that made them. Kernel
// objects (bridge, namespaces, loop devices) and state dirs are recorded in
// /run/pxc-hosts with their owner's PID; Close removes them, and Sweep
// removes those whose owner died. Everything needs root.
//
// Options.Image selects systemd mode instead (systemd.go): the host boots a
// guest image built by package image with systemd as PID 1 under
// systemd-nspawn, over its own overlay of the image. It is off by default.
package host
