package guest

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// layout is where a flavour keeps its files and which binaries it ships, as
// installed from the distribution's (MariaDB) or Percona's (PXC) Debian and
// Ubuntu packages.
type layout struct {
	// ConfigFile is the drop-in file the library owns. The name sorts after
	// every file the packages ship in that directory, so our settings win:
	// MariaDB's 50-server.cnf sets bind-address 127.0.0.1, and Percona 8.0's
	// mysql.conf.d/mysqld.cnf carries its own wsrep lines.
	ConfigFile   string
	ProviderPath string
	Client       string // SQL client
	Admin        string // mysqladmin
	Server       string // server binary name (pgrep -x)
	ServerPath   string
	InstallDB    string // initialises an empty datadir
	InitMarker   string // a file inside the datadir that exists once initialised
	SystemdUnit  string // the normal service
	// Packages are what install_packages installs: the server, and what
	// the data volume (xfsprogs) and backups (restic) need.
	Packages []string
}

const (
	dataDir      = "/var/lib/mysql"
	errorLog     = "/var/log/mysql/error.log"
	runDir       = "/run/mysqld"
	clientConfig = "/root/.my.cnf" // root's client credentials, mode 0600
	sstUser      = "sstuser"
)

func layoutFor(s ClusterSpec) layout {
	var l layout
	switch {
	case s.Flavour == MariaDB:
		l = layout{
			ConfigFile:   "/etc/mysql/mariadb.conf.d/99-galera-guest.cnf",
			ProviderPath: "/usr/lib/galera/libgalera_smm.so",
			Client:       "mariadb",
			Admin:        "mariadb-admin",
			Server:       "mariadbd",
			ServerPath:   "/usr/sbin/mariadbd",
			InstallDB:    "mariadb-install-db --user=mysql --datadir=" + dataDir + " --skip-test-db",
			InitMarker:   "mysql/global_priv.frm",
			SystemdUnit:  "mariadb",
			Packages:     []string{"mariadb-server", "galera-4", "mariadb-backup", "rsync", "xfsprogs", "restic", "stunnel4"}, // stunnel: rsync SST over TLS
		}
	case s.Version == "5.7":
		l = layout{
			ConfigFile:   "/etc/mysql/percona-xtradb-cluster.conf.d/zz-galera-guest.cnf",
			ProviderPath: "/usr/lib/galera3/libgalera_smm.so",
			Client:       "mysql",
			Admin:        "mysqladmin",
			Server:       "mysqld",
			ServerPath:   "/usr/sbin/mysqld",
			InstallDB:    "mysqld --initialize-insecure --user=mysql --datadir=" + dataDir,
			InitMarker:   "mysql/user.frm",
			SystemdUnit:  "mysql",
			Packages:     []string{"percona-xtradb-cluster-57", "xfsprogs", "restic"},
		}
	default: // percona 8.0
		l = layout{
			ConfigFile:   "/etc/mysql/mysql.conf.d/zz-galera-guest.cnf",
			ProviderPath: "/usr/lib/galera4/libgalera_smm.so",
			Client:       "mysql",
			Admin:        "mysqladmin",
			Server:       "mysqld",
			ServerPath:   "/usr/sbin/mysqld",
			InstallDB:    "mysqld --initialize-insecure --user=mysql --datadir=" + dataDir,
			InitMarker:   "mysql.ibd",
			SystemdUnit:  "mysql",
			Packages:     []string{"percona-xtradb-cluster", "xfsprogs", "restic"},
		}
	}
	if s.ProviderPath != "" {
		l.ProviderPath = s.ProviderPath
	}
	return l
}

// gcommAddress is wsrep_cluster_address for the given members.
func gcommAddress(nodes []Node) string {
	parts := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if a, err := netip.ParseAddr(n.Address); err == nil && a.Is6() && !a.Is4In6() {
			parts = append(parts, "["+a.String()+"]")
		} else {
			parts = append(parts, n.Address)
		}
	}
	return "gcomm://" + strings.Join(parts, ",")
}

// encrypt says whether Percona 8.0 runs with its own certificates in the
// datadir (copied from the first node at join): its default without a TLS
// block of ours.
func (s ClusterSpec) encrypt() bool {
	return s.Flavour == Percona && s.Version == "8.0" && !s.TLS.enabled() && (s.EncryptClusterTraffic == nil || *s.EncryptClusterTraffic)
}

// RenderConfig returns the option file for one node of a validated spec.
// The output is deterministic (parameters sorted), so it can be compared
// with golden files and re-uploaded idempotently. It contains the SST
// password where the version needs one: upload it readable by mysql only.
func RenderConfig(spec ClusterSpec, nodeName string) (string, error) {
	if err := Validate(spec); err != nil {
		return "", err
	}
	return renderConfig(spec.withDefaults(), spec.Nodes, nodeName)
}

// renderConfig renders with an explicit member list (Leave renders the
// remaining members).
func renderConfig(s ClusterSpec, members []Node, nodeName string) (string, error) {
	var node *Node
	for i := range members {
		if members[i].Name == nodeName {
			node = &members[i]
		}
	}
	if node == nil {
		return "", fmt.Errorf("render config: node %q is not a member", nodeName)
	}
	l := layoutFor(s)
	var b strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&b, "%-31s = %s\n", k, v) }

	fmt.Fprintf(&b, "# Galera settings for %s %s node %s, written by the pxc guest library.\n", s.Flavour, s.Version, node.Name)
	b.WriteString("# Changes here are overwritten; set parameters through the cluster spec.\n")
	b.WriteString("[mysqld]\n")
	kv("datadir", dataDir)
	kv("log_error", errorLog)
	kv("bind-address", s.BindAddress)
	kv("skip_name_resolve", "ON")
	kv("binlog_format", "ROW")
	kv("default_storage_engine", "InnoDB")
	kv("innodb_autoinc_lock_mode", "2")
	b.WriteString("# Durable commits: with 0 here, committed transactions were lost on\n")
	b.WriteString("# power loss in Jepsen's 2026 Galera analysis.\n")
	kv("innodb_flush_log_at_trx_commit", "1")
	kv("sync_binlog", "1")
	b.WriteString("\n# Galera\n")
	kv("wsrep_on", "ON")
	kv("wsrep_provider", l.ProviderPath)
	// The TLS options are read at start only: SET GLOBAL (settings.go)
	// carries the dynamic part alone.
	kv("wsrep_provider_options", fmt.Sprintf("\"%s\"", providerOptions(s)+tlsProviderOptions(s)))
	kv("wsrep_cluster_name", s.Name)
	kv("wsrep_cluster_address", gcommAddress(members))
	kv("wsrep_node_name", node.Name)
	kv("wsrep_node_address", node.Address)
	kv("wsrep_sst_method", string(s.SST))
	if SSTNeedsAccount(s.Flavour, s.Version, s.SST) {
		// Quoted with the option-file escapes, as the server's parser reads it.
		kv("wsrep_sst_auth", optionQuote(sstUser+":"+s.SSTPassword))
	}
	if s.Flavour == Percona {
		kv("pxc_strict_mode", "ENFORCING")
	}
	if s.TLS.enabled() {
		renderTLS(&b, s, kv)
	} else if s.Flavour == Percona && s.Version == "8.0" {
		if s.encrypt() {
			kv("pxc-encrypt-cluster-traffic", "ON")
			// One CA for all nodes: Join copies these from the first node.
			kv("ssl-ca", dataDir+"/ca.pem")
			kv("ssl-cert", dataDir+"/server-cert.pem")
			kv("ssl-key", dataDir+"/server-key.pem")
		} else {
			kv("pxc-encrypt-cluster-traffic", "OFF")
		}
	}
	if len(s.Parameters) > 0 {
		b.WriteString("\n# Parameters from the cluster spec\n")
		keys := make([]string, 0, len(s.Parameters))
		for k := range s.Parameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kv(k, strings.TrimSpace(s.Parameters[k]))
		}
	}
	if s.Flavour == MariaDB {
		// No syslog on minimal guests: Debian's 50-mysqld_safe.cnf would send
		// every startup and SST error there and lose it.
		b.WriteString("\n[mysqld_safe]\n")
		b.WriteString("skip_syslog\n")
		kv("log_error", errorLog)
		b.WriteString("\n[sst]\n")
		kv("sst-syslog", "-1")
		renderSSTTLS(&b, s, kv)
	} else if s.TLS.enabled() && s.Version == "5.7" {
		b.WriteString("\n[sst]\n")
		renderSSTTLS(&b, s, kv)
	}
	return b.String(), nil
}

// clientOptionFile is root's ~/.my.cnf: the CLI over SSH uses it once root
// has a password. Values are quoted with the option-file escapes.
func clientOptionFile(password string) string {
	return "[client]\nuser = root\npassword = " + optionQuote(password) + "\n"
}

// optionQuote double-quotes an option-file value; inside quotes the
// server's parser reads \\ and \" as the characters themselves.
func optionQuote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// providerOptions is wsrep_provider_options. A shorter evs.suspect_timeout
// makes the survivors drop a failed node sooner: until they do, every
// commit in the cluster waits, so it bounds a load balancer's failover.
// With it come the periods that decide how long a membership change takes
// once it starts: how often a node looks for silent peers
// (evs.inactive_check_period), how often the survivors resend their view
// of who is left until all agree (evs.join_retrans_period, 1 s by default:
// a second round, more likely the more survivors there are, cost a 5-node
// cluster over a second more than a 3-node one), and how often a node
// resends what others have not acknowledged (evs.keepalive_period, 1 s by
// default), which includes a leaving node's leave message: about every
// other clean leave lost its first one, and every commit in the cluster
// waited the second or two until the resend (a shrink's or a roll's
// stop). They only set the pace of a membership change and of
// retransmission; an idle node's keepalive is a few bytes a pace.
func providerOptions(s ClusterSpec) string {
	opts := "gcache.size=" + s.GCacheSize
	if s.SuspectTimeout > 0 {
		pace := membershipPace.Seconds()
		opts += fmt.Sprintf(";evs.suspect_timeout=PT%gS;evs.inactive_check_period=PT%gS;evs.join_retrans_period=PT%gS;evs.keepalive_period=PT%gS",
			s.SuspectTimeout.Seconds(), pace, pace, pace)
	}
	return opts
}

// membershipPace is evs.inactive_check_period, evs.join_retrans_period and
// evs.keepalive_period when the spec shortens failure detection (Galera's
// floor for the last: it must also stay under a third of the suspect
// timeout, whose floor here is a second).
const membershipPace = 100 * time.Millisecond
