package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Recipe says how an image is built. Its Hash names the cached copy.
type Recipe struct {
	// Name is the Glance-facing image name, e.g. "debian-12-mariadb-galera".
	Name string
	// Suite is the Debian suite (bookworm = Debian 12).
	Suite string
	// Security adds the suite's security updates (<suite>-security), as
	// Debian's cloud images have them: a guest without them runs the
	// packages of the suite's last point release, not those of a patched
	// server (MariaDB's unit, for one, changed in bookworm-security).
	Security bool
	// Variant is mmdebstrap's --variant (minbase: Essential + apt only).
	Variant string
	// Packages are installed on top of the variant, with their Depends.
	Packages []string
	// Customize are shell commands run after installation with $1 the new
	// root (mmdebstrap --customize-hook).
	Customize []string
}

// basePackages boot systemd with an SSH server and cloud-init, the way a
// cloud's Debian image does.
var basePackages = []string{
	"systemd", "systemd-sysv", "dbus", "iproute2", "iputils-ping", "procps",
	"openssh-server", "cloud-init", "ca-certificates", "openssl",
	"e2fsprogs", "xfsprogs", "less", "nftables",
}

// baseCustomize makes the image safe to share between hosts: no host keys
// (every host gets its own), no machine ID (systemd makes one per boot), and
// apt kept off the network it cannot reach.
var baseCustomize = []string{
	`rm -f "$1"/etc/ssh/ssh_host_*`,
	`: > "$1"/etc/machine-id`,
	`rm -f "$1"/var/lib/dbus/machine-id`,
	// The console is the only way in before sshd is up and nspawn's
	// console gets a getty otherwise, which the log does not need.
	`systemctl --root="$1" mask console-getty.service`,
	// cloud-init: the host's interface is set up by the cloud, and the
	// image has no locale but C.UTF-8 (en_US fails cc_locale). No
	// datasource_list: ds-identify's default search enables cloud-init when
	// a NoCloud seed is there and disables it otherwise, while a one-entry
	// list would force it on every boot (regenerating the host keys).
	`printf '%s\n' '# the local cloud' 'network: {config: disabled}' 'locale: C.UTF-8' > "$1"/etc/cloud/cloud.cfg.d/90-pxc-localcloud.cfg`,
}

// Debian12 is the plain image: systemd, OpenSSH, cloud-init, no database
// (what install_packages installs on).
var Debian12 = Recipe{
	Name:      "debian-12",
	Suite:     "bookworm",
	Security:  true,
	Variant:   "minbase",
	Packages:  basePackages,
	Customize: baseCustomize,
}

// Debian12MariaDBGalera has MariaDB with Galera and what SST, backups and
// TLS need. MariaDB is installed but not enabled (neither its service nor
// its socket): the guest library
// configures Galera first and then bootstraps (galera_new_cluster) or starts
// (systemctl start mariadb) each node itself, as an operator would; a server
// starting unconfigured at first boot would create a standalone node.
var Debian12MariaDBGalera = Recipe{
	Name:     "debian-12-mariadb-galera",
	Suite:    "bookworm",
	Security: true,
	Variant:  "minbase",
	Packages: append(append([]string(nil), basePackages...),
		"mariadb-server", "mariadb-client", "galera-4", "mariadb-backup",
		// garbd, for arbitrator nodes (guest/garbd.go); its garb service stays off
		"galera-arbitrator-4",
		"rsync", "socat", "pv", "lsof",
		// rsync SST over TLS (guest/tls.go)
		"stunnel4",
		// backups to the object store (guest/backup.go)
		"restic"),
	Customize: append(append([]string(nil), baseCustomize...),
		// The socket would start the server on the first client connection.
		`systemctl --root="$1" disable mariadb.service mariadb.socket`,
		// Unconfigured, it would only log errors at boot.
		`systemctl --root="$1" disable garb.service`),
}

// Hash identifies the recipe's content: 12 hex digits of SHA-256 over every
// field.
func (r Recipe) Hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "name=%s\nsuite=%s\nvariant=%s\npackages=%s\n", r.Name, r.Suite, r.Variant, strings.Join(r.Packages, ","))
	if r.Security {
		fmt.Fprintf(h, "security=%s-security\n", r.Suite)
	}
	for _, c := range r.Customize {
		fmt.Fprintf(h, "customize=%s\n", c)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// ID is "<name>-<hash>", the cached image's directory name.
func (r Recipe) ID() string { return r.Name + "-" + r.Hash() }

// Recipes are the images the local cloud offers.
var Recipes = []Recipe{Debian12MariaDBGalera, Debian12}

// Lookup returns the recipe with the given name.
func Lookup(name string) (Recipe, bool) {
	for _, r := range Recipes {
		if r.Name == name {
			return r, true
		}
	}
	return Recipe{}, false
}
