package guest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Flavour is the Galera distribution a cluster runs.
type Flavour string

const (
	// Percona is Percona XtraDB Cluster (versions 5.7 and 8.0).
	Percona Flavour = "percona"
	// MariaDB is MariaDB Galera Cluster (versions 10.6, 10.11 and 11.x).
	MariaDB Flavour = "mariadb"
)

// SSTMethod is the state snapshot transfer method (wsrep_sst_method).
type SSTMethod string

const (
	SSTXtrabackupV2 SSTMethod = "xtrabackup-v2"
	SSTMariabackup  SSTMethod = "mariabackup"
	SSTRsync        SSTMethod = "rsync"
)

// InitSystem is how a node's database server is started and stopped.
type InitSystem string

const (
	// InitDetect asks Prepare to detect the init system on the node.
	InitDetect InitSystem = ""
	// InitSystemd uses systemctl (and galera_new_cluster / mysql@bootstrap).
	InitSystemd InitSystem = "systemd"
	// InitNone starts the server detached from the SSH session (setsid).
	InitNone InitSystem = "none"
)

// ClusterSpec is everything the library needs to build one Galera cluster.
// Validate checks it without touching any node.
type ClusterSpec struct {
	// Name is wsrep_cluster_name: letters, digits, '-' and '_', at most 32.
	Name string
	// Flavour and Version select packages, paths and config (see Validate).
	Flavour Flavour
	Version string
	// SST is wsrep_sst_method; empty picks the flavour's default
	// (xtrabackup-v2 for Percona, mariabackup for MariaDB).
	SST SSTMethod
	// Nodes in a fixed order; the first one bootstraps the cluster. At
	// least 2 (two data nodes keep a quorum only with an arbitrator).
	Nodes []Node
	// Arbitrators are Galera arbitrators (garbd, garbd.go): voting members
	// without data. They hold no data volume and answer no SQL.
	Arbitrators []Node
	// Parameters are extra [mysqld] settings. Keys the library manages are
	// refused (see ManagedParameters), and so are values that could start a
	// new line or section.
	Parameters map[string]string
	// GCacheSize is gcache.size in wsrep_provider_options; empty means 128M.
	GCacheSize string
	// SuspectTimeout is evs.suspect_timeout: how long the others wait for a
	// silent node before dropping it (Galera's default, 5s, when zero).
	// Commits stall for that long when a node dies. 1s to 60s.
	SuspectTimeout time.Duration
	// BindAddress is bind-address; empty means 0.0.0.0. Only wildcard
	// addresses are accepted, because the library reaches the server over
	// 127.0.0.1 through the SSH connection.
	BindAddress string
	// RootPassword becomes the password of root@localhost and root@127.0.0.1.
	// The library itself logs in as root@127.0.0.1 through the SSH tunnel.
	RootPassword string
	// SSTPassword is the password of the SST account ('sstuser'@'localhost'),
	// required where the method logs in to the donor (see SSTNeedsAccount):
	// mariabackup, and xtrabackup-v2 on Percona 5.7. The account holds only
	// the privileges the backup tool needs (sstPrivileges); it must differ
	// from RootPassword, because wsrep_sst_auth sits in the server's option
	// file, which the mysql user reads.
	SSTPassword string
	// EncryptClusterTraffic sets pxc-encrypt-cluster-traffic on Percona 8.0
	// (nil means ON, the Percona default). When ON, Join copies the first
	// node's certificates to the others so they share one CA.
	EncryptClusterTraffic *bool
	// InstallPackages lets Prepare install the server packages on known
	// distributions when they are missing (a no-op when present).
	InstallPackages bool
	// PackageRepository, when set, is added to apt's sources before
	// packages are installed (Percona's repository; see packagerepository.go).
	PackageRepository *PackageRepository
	// InitSystem overrides detection for every node (InitDetect: detect).
	InitSystem InitSystem
	// ProviderPath overrides the flavour's wsrep_provider path.
	ProviderPath string
	// Clustercheck, when set, runs the HTTP health responder on every node:
	// Create installs it, and every server start makes sure it listens.
	Clustercheck *Clustercheck
	// TLS, when set and not disabled, encrypts client connections,
	// replication, IST and SST with the certificates it issues (tls.go).
	TLS *TLS
}

// Node is one server of the cluster.
type Node struct {
	// Name is wsrep_node_name: letters, digits, '.', '-' and '_'.
	Name string
	// Address is the node's IP address inside the cluster network (gcomm://
	// and wsrep_node_address).
	Address string
	// SSH says how to reach the node; Runner, when set, is used instead
	// (tests and callers with their own transport).
	SSH    *SSHTarget
	Runner Runner
	// Await, when set, stands for a new server still being built: the
	// node's first connection waits for it, and dials the target it
	// returns unless SSH or Runner is set (once the server is up and its
	// host key verified). Until it has returned, the node counts as
	// running no database server, which a new server cannot. Create then
	// prepares each node as soon as its own server is up, and the first
	// bootstraps while others still boot.
	Await func(ctx context.Context) (*SSHTarget, error)
	// DataVolume is the block device that holds the datadir; zero means the
	// datadir stays on the root filesystem.
	DataVolume DataVolume
}

// DataVolume names the data disk of a node.
type DataVolume struct {
	// IDPrefix is matched as /dev/disk/by-id/virtio-<IDPrefix>* (OpenStack
	// exposes the first 20 characters of the volume ID as the serial). It
	// wins over Device when such a link exists.
	IDPrefix string
	// Device is a fallback path such as /dev/vdb.
	Device string
}

func (d DataVolume) isZero() bool { return d.IDPrefix == "" && d.Device == "" }

// User is a database account EnsureUsers creates or updates.
type User struct {
	Name     string
	Host     string // empty means '%'
	Password string
	Grants   []Grant
}

// Grant is one GRANT statement: Privileges ON On.
type Grant struct {
	// Privileges such as "SELECT", "INSERT", "ALL PRIVILEGES".
	Privileges []string
	// On is "*.*", "db.*" or "db.table" (names are quoted by the library).
	On string
	// WithGrantOption adds WITH GRANT OPTION.
	WithGrantOption bool
}

var (
	clusterNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	nodeNameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	sizeRe        = regexp.MustCompile(`^[1-9][0-9]{0,9}[KMG]?$`)
	privilegeRe   = regexp.MustCompile(`^[A-Z][A-Z ]{0,40}[A-Z]$`)
	volumePrefix  = regexp.MustCompile(`^[A-Za-z0-9-]{1,36}$`)
	devicePath    = regexp.MustCompile(`^/dev/[A-Za-z0-9/_.-]+$`)
	mariadb11Re   = regexp.MustCompile(`^11\.[0-9]{1,2}$`)
)

// ManagedParameters are the [mysqld] keys the library writes itself; user
// Parameters may not set them (dashes and underscores are equivalent).
var ManagedParameters = []string{
	"wsrep_on", "wsrep_provider", "wsrep_provider_options", "wsrep_cluster_name",
	"wsrep_cluster_address", "wsrep_node_name", "wsrep_node_address",
	"wsrep_sst_method", "wsrep_sst_auth", "wsrep_new_cluster", "binlog_format",
	"default_storage_engine", "innodb_autoinc_lock_mode", "bind_address",
	"pxc_strict_mode", "pxc_encrypt_cluster_traffic", "innodb_flush_log_at_trx_commit",
	"sync_binlog", "log_error", "datadir", "socket", "port", "user",
	"skip_name_resolve", "ssl_ca", "ssl_cert", "ssl_key", "require_secure_transport",
}

func normaliseKey(k string) string { return strings.ReplaceAll(strings.ToLower(k), "-", "_") }

// defaults fills in the defaults Validate and rendering rely on.
func (s ClusterSpec) withDefaults() ClusterSpec {
	if s.SST == "" {
		s.SST = DefaultSST(s.Flavour)
	}
	if s.GCacheSize == "" {
		s.GCacheSize = "128M"
	}
	if s.BindAddress == "" {
		s.BindAddress = "0.0.0.0"
	}
	return s
}

// Validate checks a spec before anything runs: flavour and version, SST
// method, node count, names and addresses, parameters and passwords. The
// errors name the field and never contain a password.
func Validate(spec ClusterSpec) error {
	s := spec.withDefaults()
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if !clusterNameRe.MatchString(s.Name) {
		bad("cluster name %q: use 1-32 letters, digits, '-' or '_'", s.Name)
	}
	errs = append(errs, datastoreErrors(s.Flavour, s.Version, s.SST)...)
	if SSTNeedsAccount(s.Flavour, s.Version, s.SST) && s.SSTPassword == "" {
		bad("sst password is required for %s %s with %s (wsrep_sst_auth)", s.Flavour, s.Version, s.SST)
	}
	if s.SSTPassword != "" && s.SSTPassword == s.RootPassword {
		bad("sst password must differ from the root password (the SST account's password is readable by the mysql user)")
	}
	if s.EncryptClusterTraffic != nil && !(s.Flavour == Percona && s.Version == "8.0") {
		bad("encrypt cluster traffic is a percona 8.0 setting")
	}
	if s.PackageRepository != nil {
		if err := ValidatePackageRepository(*s.PackageRepository); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, tlsErrors(s)...)
	switch s.InitSystem {
	case InitDetect, InitSystemd, InitNone:
	default:
		bad("unknown init system %q (supported: systemd, none, or empty to detect)", s.InitSystem)
	}

	if len(s.Nodes) < 2 {
		bad("a cluster needs at least 2 data nodes, got %d (and 3 voting members, arbitrators included, to keep a quorum when one fails)", len(s.Nodes))
	}
	names, addrs := map[string]bool{}, map[netip.Addr]bool{}
	for i, n := range s.Nodes {
		if !nodeNameRe.MatchString(n.Name) {
			bad("node %d: name %q: use letters, digits, '.', '-' or '_' (at most 64)", i+1, n.Name)
		} else if names[n.Name] {
			bad("node %d: name %q is used twice", i+1, n.Name)
		}
		names[n.Name] = true
		a, err := netip.ParseAddr(n.Address)
		if err != nil || a.Zone() != "" || a.IsUnspecified() {
			bad("node %q: address %q is not an IP address", n.Name, n.Address)
		} else if addrs[a] {
			bad("node %q: address %s is used twice", n.Name, a)
		} else {
			addrs[a] = true
		}
		if n.SSH == nil && n.Runner == nil && n.Await == nil {
			bad("node %q: neither SSH, Runner nor Await is set", n.Name)
		}
		if n.DataVolume.IDPrefix != "" && !volumePrefix.MatchString(n.DataVolume.IDPrefix) {
			bad("node %q: data volume id prefix %q: use letters, digits and '-'", n.Name, n.DataVolume.IDPrefix)
		}
		if n.DataVolume.Device != "" && !devicePath.MatchString(n.DataVolume.Device) {
			bad("node %q: data volume device %q is not a /dev path", n.Name, n.DataVolume.Device)
		}
	}

	errs = append(errs, validateArbitrators(s)...)
	errs = append(errs, parameterErrors(s.Flavour, s.Version, s.Parameters)...)
	if s.SuspectTimeout != 0 && (s.SuspectTimeout < time.Second || s.SuspectTimeout > time.Minute) {
		bad("suspect timeout %s: use 1s to 60s", s.SuspectTimeout)
	}
	if !sizeRe.MatchString(s.GCacheSize) {
		bad("gcache size %q: use a number with an optional K, M or G suffix", s.GCacheSize)
	}
	switch s.BindAddress {
	case "0.0.0.0", "::", "*":
	default:
		bad("bind address %q: only 0.0.0.0, :: or * (the library connects over 127.0.0.1)", s.BindAddress)
	}
	errs = append(errs, passwordErrors(s.RootPassword, s.SSTPassword)...)
	if s.ProviderPath != "" && !strings.HasPrefix(s.ProviderPath, "/") || strings.ContainsAny(s.ProviderPath, "\n\r[] ") {
		bad("provider path %q must be an absolute path", s.ProviderPath)
	}
	if s.Clustercheck != nil {
		if err := s.Clustercheck.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return joinSpecErrors(errs)
}

// SSTNeedsAccount says whether the SST method logs in to the donor's server
// with an account of ours (wsrep_sst_auth): mariabackup does, and so does
// xtrabackup-v2 on Percona 5.7. Percona 8.0 uses its internal
// mysql.pxc.sst.user, and rsync copies files without logging in.
func SSTNeedsAccount(f Flavour, version string, sst SSTMethod) bool {
	if sst == "" {
		sst = DefaultSST(f)
	}
	switch {
	case f == MariaDB && sst == SSTMariabackup:
		return true
	case f == Percona && version == "5.7" && sst == SSTXtrabackupV2:
		return true
	}
	return false
}

// sstPrivileges are the privileges the backup tool needs on the donor:
// RELOAD and LOCK TABLES for the backup lock (BACKUP STAGE on MariaDB),
// PROCESS for InnoDB status, and the binary log position (BINLOG MONITOR,
// MariaDB 10.5's name for REPLICATION CLIENT).
func sstPrivileges(f Flavour) string {
	if f == MariaDB {
		return "RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR"
	}
	return "RELOAD, LOCK TABLES, PROCESS, REPLICATION CLIENT"
}

// DefaultSST is the SST method a flavour uses unless told otherwise: its
// hot-backup tool, which keeps the donor writable.
func DefaultSST(f Flavour) SSTMethod {
	if f == Percona {
		return SSTXtrabackupV2
	}
	return SSTMariabackup
}

// ValidateDatastore says whether the library supports the flavour and
// version, with no cluster to validate yet.
func ValidateDatastore(f Flavour, version string) error {
	return joinSpecErrors(datastoreErrors(f, version, DefaultSST(f)))
}

// ValidateSST says whether the SST method (empty: the flavour's default)
// works for the flavour and version.
func ValidateSST(f Flavour, version string, sst SSTMethod) error {
	if sst == "" {
		sst = DefaultSST(f)
	}
	return joinSpecErrors(datastoreErrors(f, version, sst))
}

// ValidateRootPassword judges a root password alone, before any server
// exists (a plan or the start of a create). It goes over SQL and into
// root's quoted ~/.my.cnf, never into wsrep_sst_auth (the SST account has
// its own password), so only NUL and line breaks cannot be carried.
func ValidateRootPassword(pw string) error {
	return joinSpecErrors(passwordErrors(pw, ""))
}

// ValidateParameters refuses [mysqld] parameters the flavour and version
// would read as a key the library manages, or whose keys or values could
// break out of the option file (see CheckParameter).
func ValidateParameters(f Flavour, version string, params map[string]string) error {
	return joinSpecErrors(parameterErrors(f, version, params))
}

// ValidatePasswords checks the root and SST passwords (empty: none) as
// Validate does, so a caller can refuse them before building anything. The
// errors never contain a password.
func ValidatePasswords(root, sst string) error {
	return joinSpecErrors(passwordErrors(root, sst))
}

func passwordErrors(root, sst string) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if root == "" {
		bad("root password is required")
	}
	for what, pw := range map[string]string{"root password": root, "sst password": sst} {
		if strings.ContainsAny(pw, "\x00\n\r") {
			bad("%s must not contain NUL or newline characters", what)
		}
	}
	if sst != "" && strings.ContainsAny(sst, ":") {
		bad("sst password must not contain ':' (wsrep_sst_auth is user:password)")
	}
	return errs
}

func joinSpecErrors(errs []error) error {
	if len(errs) > 0 {
		return fmt.Errorf("invalid cluster spec: %w", errors.Join(errs...))
	}
	return nil
}

// datastoreErrors judges flavour, version and SST method together.
func datastoreErrors(f Flavour, version string, sst SSTMethod) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch f {
	case Percona:
		if version != "5.7" && version != "8.0" {
			bad("version %q is not supported for percona (supported: 5.7, 8.0)", version)
		}
		switch {
		case version == "8.0" && sst != SSTXtrabackupV2:
			bad("sst method %q is not supported by percona 8.0 (supported: xtrabackup-v2)", sst)
		case version == "5.7" && sst != SSTXtrabackupV2 && sst != SSTRsync:
			bad("sst method %q is not supported by percona 5.7 (supported: xtrabackup-v2, rsync)", sst)
		}
	case MariaDB:
		if version != "10.6" && version != "10.11" && !mariadb11Re.MatchString(version) {
			bad("version %q is not supported for mariadb (supported: 10.6, 10.11, 11.x)", version)
		}
		if sst != SSTMariabackup && sst != SSTRsync {
			bad("sst method %q is not supported by mariadb (supported: mariabackup, rsync)", sst)
		}
	default:
		bad("unknown flavour %q (supported: percona, mariadb)", f)
	}
	return errs
}

// parameterErrors judges user [mysqld] parameters, in key order.
func parameterErrors(f Flavour, version string, params map[string]string) []error {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		if err := CheckParameter(f, version, k, params[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// ValidateUser checks one account before any SQL runs.
func ValidateUser(u User) error {
	var errs []error
	if u.Name == "" || len([]rune(u.Name)) > 80 {
		errs = append(errs, fmt.Errorf("user name must be 1-80 characters"))
	}
	if len([]rune(u.Host)) > 255 {
		errs = append(errs, fmt.Errorf("user %q: host is longer than 255 characters", u.Name))
	}
	if strings.ContainsRune(u.Name+u.Host+u.Password, 0) {
		errs = append(errs, fmt.Errorf("user %q: NUL characters are not allowed", u.Name))
	}
	for _, g := range u.Grants {
		if len(g.Privileges) == 0 {
			errs = append(errs, fmt.Errorf("user %q: a grant needs at least one privilege", u.Name))
		}
		for _, p := range g.Privileges {
			if !privilegeRe.MatchString(p) {
				errs = append(errs, fmt.Errorf("user %q: privilege %q is not a privilege name", u.Name, p))
			}
		}
		if _, err := grantTarget(g.On); err != nil {
			errs = append(errs, fmt.Errorf("user %q: %w", u.Name, err))
		}
	}
	return errors.Join(errs...)
}

// joinTimeout is how long one joiner may take to reach Synced; SST time
// grows with the data to copy.
func joinTimeout(base time.Duration, dataBytes int64) time.Duration {
	const perSecond = 20 << 20 // a conservative 20 MiB/s for SST
	return base + time.Duration(dataBytes/perSecond)*time.Second
}
