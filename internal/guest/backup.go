package guest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Backups are physical hot backups (mariabackup, or xtrabackup for
// Percona) streamed as xbstream straight into a restic repository on an
// object store: restic encrypts, compresses and deduplicates on the node,
// so no full local copy is ever written. Every command runs on a node over
// its Runner; the repository's credentials reach the node only on the SSH
// session's stdin (read into the environment of that one shell), never on
// a command line, in a file or in a log.

// BackupRepository is where a cluster's backups live.
type BackupRepository struct {
	// Repository is restic's repository, e.g. "swift:<container>:/<path>"
	// or "s3:https://<endpoint>/<bucket>/<path>".
	Repository string
	// Password is the repository key (RESTIC_PASSWORD): it encrypts every
	// object. Losing it loses the backups.
	Password string
	// Env holds the backend's credentials as environment variables:
	// OS_AUTH_URL, OS_APPLICATION_CREDENTIAL_ID/SECRET, OS_REGION_NAME...
	// for Swift, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for S3. Values are
	// treated as secrets.
	Env map[string]string
}

var (
	envKeyRe     = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	repositoryRe = regexp.MustCompile(`^(swift|s3):[^\s'"\\]+$`)
	snapshotIDRe = regexp.MustCompile(`^[0-9a-f]{8,64}$`)
)

// Validate checks a repository before any command runs; errors never
// contain a secret.
func (r BackupRepository) Validate() error {
	var errs []error
	if !repositoryRe.MatchString(r.Repository) {
		errs = append(errs, fmt.Errorf("backup repository %q: use swift:<container>:/<path> or s3:<url>", r.Repository))
	}
	if r.Password == "" {
		errs = append(errs, errors.New("backup repository password is required"))
	}
	for k, v := range r.Env {
		if !envKeyRe.MatchString(k) {
			errs = append(errs, fmt.Errorf("backup environment variable %q: use upper-case letters, digits and '_'", k))
		}
		if strings.ContainsAny(v, "\n\r\x00") {
			errs = append(errs, fmt.Errorf("backup environment variable %s must not contain newlines or NUL", k))
		}
	}
	if strings.ContainsAny(r.Password, "\n\r\x00") {
		errs = append(errs, errors.New("backup repository password must not contain newlines or NUL"))
	}
	return errors.Join(errs...)
}

// secrets are the values a masker must hide.
func (r BackupRepository) secrets() []string {
	s := []string{r.Password}
	for _, v := range r.Env {
		s = append(s, v)
	}
	return s
}

// stdin is the environment a backup script reads before anything else.
func (r BackupRepository) stdin() []byte {
	keys := make([]string, 0, len(r.Env))
	for k := range r.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("RESTIC_REPOSITORY=" + r.Repository + "\n")
	b.WriteString("RESTIC_PASSWORD=" + r.Password + "\n")
	for _, k := range keys {
		b.WriteString(k + "=" + r.Env[k] + "\n")
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// backupScript wraps body so that it runs in bash with pipefail, after
// exporting the environment given on stdin (up to an empty line). restic
// keeps no cache: nothing of the repository stays on the nodes.
func backupScript(body string) string {
	return "bash -c " + shellQuote(backupPrelude("")+body)
}

// backupPrelude exports the environment read from envFile (stdin when
// empty), up to an empty line.
func backupPrelude(envFile string) string {
	from := ""
	if envFile != "" {
		from = " <" + envFile
	}
	return "set -euo pipefail\n" +
		"while IFS= read -r kv; do [ -n \"$kv\" ] || break; export \"$kv\"; done" + from + "\n" +
		"export HOME=\"${HOME:-/root}\"\n" +
		"restic() { command restic --no-cache \"$@\"; }\n"
}

// repositoryLockWait bounds how long a command waits for another's lock
// on the repository (a prune holds an exclusive one; restic 0.14 has no
// --retry-lock).
const repositoryLockWait = 3 * time.Minute

// runLocked runs a restic script on n, again while the repository is
// locked by another client. Scripts must be safe to re-run.
func runLocked(ctx context.Context, r func(ctx context.Context, cmd string, stdin []byte) (string, error), cmd string, stdin []byte, poll time.Duration) (string, error) {
	deadline := time.Now().Add(repositoryLockWait)
	for {
		out, err := r(ctx, cmd, stdin)
		if err == nil || !strings.Contains(err.Error(), "repository is already locked") || time.Now().After(deadline) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, err
		case <-time.After(poll):
		}
	}
}

// runRestic is runLocked on a member.
func (c *Cluster) runRestic(ctx context.Context, n *node, body string, repo BackupRepository) (string, error) {
	return runLocked(ctx, n.run, backupScript(body), repo.stdin(), max(c.opts.poll, 2*time.Second))
}

// backupTools are the commands of one flavour's backup tool.
type backupTools struct {
	Backup  string // takes the backup, streaming xbstream to stdout
	Extract string // unpacks an xbstream from stdin into -C <dir>
}

func toolsFor(f Flavour) backupTools {
	if f == Percona {
		return backupTools{Backup: "xtrabackup", Extract: "xbstream"}
	}
	return backupTools{Backup: "mariabackup", Extract: "mbstream"}
}

// BackupOptions tunes Backup.
type BackupOptions struct {
	// Node names the source; empty picks the first Synced member (in spec
	// order) that is not the single-writer rule's writer.
	Node string
	// CheckSubset, when set (e.g. "10%" or "1/5"), also runs restic check
	// --read-data-subset after the read-back hash.
	CheckSubset string
}

// BackupInfo describes one backup (a restic snapshot).
type BackupInfo struct {
	ID      string    // snapshot id (64 hex)
	Time    time.Time // when it was taken
	Cluster string
	Node    string // the source node
	// Bytes is the size of the xbstream; Added what the repository grew by
	// (after deduplication and compression). Known only to Backup.
	Bytes, Added int64
	// SHA256 is the stream's hash, checked by reading the backup back.
	SHA256 string
	// GTID is the server's GTID of the last change, when it has binary logs.
	GTID string
}

var subsetRe = regexp.MustCompile(`^([0-9]{1,3}(\.[0-9]+)?%|[0-9]+/[0-9]+)$`)

// backupSource picks the node to back up: Synced, and not the writer, so
// the backup's I/O and locks do not slow down the node taking writes.
func (c *Cluster) backupSource(ctx context.Context, want string) (*node, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	members := c.Spec().Nodes
	var writer Node
	var haveWriter bool
	for _, ns := range st.Nodes {
		if ns.Healthy() {
			writer, haveWriter = WriterOf(members, ns)
			break
		}
	}
	for _, n := range c.nodes() {
		ns, _ := st.Node(n.Name)
		if want != "" && n.Name != want {
			continue
		}
		switch {
		case !ns.Healthy():
			if want != "" {
				return nil, fmt.Errorf("node %s is not Synced (%s)", want, ns)
			}
		case haveWriter && writer.Name == n.Name:
			if want != "" {
				return nil, fmt.Errorf("node %s is the writer; back up another node", want)
			}
		default:
			return n, nil
		}
	}
	if want != "" {
		return nil, fmt.Errorf("node %q is not a member of cluster %s", want, c.spec.Name)
	}
	return nil, errors.New("no Synced node other than the writer to back up")
}

// streamName is the file name the stream has inside a snapshot.
func (c *Cluster) streamName() string { return c.spec.Name + ".xbstream" }

// Backup takes a physical backup of one Synced non-writer node, streams it
// into the repository (initialising it on first use) and verifies it by
// reading it back and comparing SHA-256 hashes.
func (c *Cluster) Backup(ctx context.Context, repo BackupRepository, opts BackupOptions) (BackupInfo, error) {
	if err := repo.Validate(); err != nil {
		return BackupInfo{}, err
	}
	if opts.CheckSubset != "" && !subsetRe.MatchString(opts.CheckSubset) {
		return BackupInfo{}, fmt.Errorf("check subset %q: use a percentage (10%%) or n/t", opts.CheckSubset)
	}
	c.mask.add(repo.secrets()...)
	start := time.Now()
	n, err := c.backupSource(ctx, opts.Node)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup of cluster %s: choose a source: %w", c.spec.Name, err)
	}
	c.emit("backup", n.Name, "streaming a %s backup to %s", toolsFor(c.spec.Flavour).Backup, repo.Repository)
	out, err := c.runRestic(ctx, n, c.backupBody(n.Name), repo)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup of cluster %s: %w", c.spec.Name, err)
	}
	info, err := parseBackupOutput(out)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup of cluster %s on %s: %w", c.spec.Name, n.Name, err)
	}
	info.Cluster, info.Node, info.Time = c.spec.Name, n.Name, start.UTC()
	c.emit("backup", n.Name, "snapshot %s: %d bytes streamed, %d added to the repository; reading it back", info.ID[:8], info.Bytes, info.Added)
	snap, err := c.verifyBackup(ctx, n, repo, info, opts.CheckSubset)
	if err != nil {
		return info, fmt.Errorf("backup of cluster %s: verify snapshot %s: %w", c.spec.Name, info.ID[:8], err)
	}
	info.ID, info.Time = snap.ID, snap.Time
	c.emitDone("backup", n.Name, start, "snapshot %s verified (sha256 %s)", info.ID[:8], info.SHA256[:12])
	return info, nil
}

// backupBody streams the backup tool's xbstream through a hash into
// restic; the tool's chatter goes to a log printed only on failure.
func (c *Cluster) backupBody(nodeName string) string {
	tools := toolsFor(c.spec.Flavour)
	return `restic cat config >/dev/null 2>&1 || restic init >/dev/null
tmp=$(mktemp -d /tmp/pxc-backup.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/stream"
sha256sum <"$tmp/stream" >"$tmp/sha" &
hasher=$!
if ! ` + tools.Backup + ` --defaults-extra-file=` + clientConfig + ` --backup --galera-info --stream=xbstream --target-dir="$tmp" 2>"$tmp/log" |
  tee "$tmp/stream" |
  restic backup --json --stdin --stdin-filename ` + shellQuote(c.streamName()) +
		` --host ` + shellQuote(c.spec.Name) + ` --tag ` + shellQuote("cluster="+c.spec.Name) + ` --tag ` + shellQuote("node="+nodeName) + ` >"$tmp/out"; then
  tail -c 2000 "$tmp/log" >&2
  exit 1
fi
wait "$hasher"
echo "sha256 $(cut -d' ' -f1 "$tmp/sha")"
grep '"message_type":"summary"' "$tmp/out" | tail -n 1
grep -o "GTID of the last change '[^']*'" "$tmp/log" | tail -n 1 || true
`
}

// parseBackupOutput reads the hash, restic's summary and the GTID line.
func parseBackupOutput(out string) (BackupInfo, error) {
	var info BackupInfo
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "sha256 "):
			info.SHA256 = strings.TrimPrefix(line, "sha256 ")
		case strings.HasPrefix(line, "{"):
			var s struct {
				SnapshotID string `json:"snapshot_id"`
				Processed  int64  `json:"total_bytes_processed"`
				Added      int64  `json:"data_added"`
			}
			if err := json.Unmarshal([]byte(line), &s); err != nil {
				return info, fmt.Errorf("read restic's summary: %w", err)
			}
			info.ID, info.Bytes, info.Added = s.SnapshotID, s.Processed, s.Added
		case strings.HasPrefix(line, "GTID of the last change '"):
			info.GTID = strings.TrimSuffix(strings.TrimPrefix(line, "GTID of the last change '"), "'")
		}
	}
	if !snapshotIDRe.MatchString(info.ID) {
		return info, fmt.Errorf("restic reported no snapshot id")
	}
	if len(info.SHA256) != 64 {
		return info, fmt.Errorf("no hash of the stream")
	}
	if info.Bytes == 0 {
		return info, fmt.Errorf("the backup stream was empty")
	}
	return info, nil
}

// verifyBackup reads the snapshot back and compares its hash with the
// stream's; restic checks every blob's MAC on the way. With a subset, it
// also runs restic check on that share of the repository's data. It
// returns the snapshot as listed (restic's backup summary may give only
// the short id).
func (c *Cluster) verifyBackup(ctx context.Context, n *node, repo BackupRepository, info BackupInfo, subset string) (BackupInfo, error) {
	body := `got=$(restic dump ` + shellQuote(info.ID) + ` ` + shellQuote("/"+c.streamName()) + ` | sha256sum | cut -d' ' -f1)
if [ "$got" != ` + shellQuote(info.SHA256) + ` ]; then
  echo "read-back hash $got differs from the stream's" >&2
  exit 1
fi
`
	if subset != "" {
		body += "restic check --read-data-subset=" + shellQuote(subset) + " >/dev/null\n"
	}
	body += "restic snapshots --json " + shellQuote(info.ID) + "\n"
	out, err := c.runRestic(ctx, n, body, repo)
	if err != nil {
		return BackupInfo{}, err
	}
	list, err := parseSnapshots(out)
	if err != nil {
		return BackupInfo{}, err
	}
	if len(list) != 1 || !strings.HasPrefix(list[0].ID, info.ID) {
		return BackupInfo{}, fmt.Errorf("snapshot %s is not listed once in the repository", info.ID)
	}
	return list[0], nil
}

// anyNode is the first member that answers a trivial command: listing and
// pruning need no database, only restic and the repository.
func (c *Cluster) anyNode(ctx context.Context) (*node, error) {
	var errs []error
	for _, n := range c.nodes() {
		if _, err := n.run(ctx, "true", nil); err != nil {
			errs = append(errs, err)
			continue
		}
		return n, nil
	}
	return nil, fmt.Errorf("no node reachable: %w", errors.Join(errs...))
}

// Backups lists the cluster's backups in the repository, oldest first.
func (c *Cluster) Backups(ctx context.Context, repo BackupRepository) ([]BackupInfo, error) {
	if err := repo.Validate(); err != nil {
		return nil, err
	}
	c.mask.add(repo.secrets()...)
	n, err := c.anyNode(ctx)
	if err != nil {
		return nil, fmt.Errorf("list backups of cluster %s: %w", c.spec.Name, err)
	}
	out, err := c.runRestic(ctx, n, "restic snapshots --json --tag "+shellQuote("cluster="+c.spec.Name)+"\n", repo)
	if err != nil {
		return nil, fmt.Errorf("list backups of cluster %s: %w", c.spec.Name, err)
	}
	list, err := parseSnapshots(out)
	if err != nil {
		return nil, fmt.Errorf("list backups of cluster %s: %w", c.spec.Name, err)
	}
	return list, nil
}

func parseSnapshots(out string) ([]BackupInfo, error) {
	var snaps []struct {
		ID   string    `json:"id"`
		Time time.Time `json:"time"`
		Tags []string  `json:"tags"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &snaps); err != nil {
		return nil, fmt.Errorf("read restic's snapshot list: %w", err)
	}
	list := make([]BackupInfo, 0, len(snaps))
	for _, s := range snaps {
		b := BackupInfo{ID: s.ID, Time: s.Time.UTC()}
		for _, tag := range s.Tags {
			if v, ok := strings.CutPrefix(tag, "cluster="); ok {
				b.Cluster = v
			}
			if v, ok := strings.CutPrefix(tag, "node="); ok {
				b.Node = v
			}
		}
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Time.Before(list[j].Time) })
	return list, nil
}

// PruneBackups keeps the backups of the cluster keep says and deletes the
// others' data from the repository.
func (c *Cluster) PruneBackups(ctx context.Context, repo BackupRepository, keep Retention) error {
	if err := keep.validate(); err != nil {
		return fmt.Errorf("prune backups of cluster %s: %w", c.spec.Name, err)
	}
	return c.forget(ctx, repo, pruneArgs(c.spec.Name, keep))
}

// DeleteBackup deletes one backup and its data no other backup shares.
func (c *Cluster) DeleteBackup(ctx context.Context, repo BackupRepository, id string) error {
	if !snapshotIDRe.MatchString(id) {
		return fmt.Errorf("delete backup %q: not a snapshot id", id)
	}
	return c.forget(ctx, repo, shellQuote(id))
}

func (c *Cluster) forget(ctx context.Context, repo BackupRepository, args string) error {
	if err := repo.Validate(); err != nil {
		return err
	}
	c.mask.add(repo.secrets()...)
	n, err := c.anyNode(ctx)
	if err != nil {
		return fmt.Errorf("forget backups of cluster %s: %w", c.spec.Name, err)
	}
	if _, err := c.runRestic(ctx, n, "restic forget --prune "+args+" >/dev/null\n", repo); err != nil {
		return fmt.Errorf("forget backups of cluster %s: %w", c.spec.Name, err)
	}
	return nil
}
