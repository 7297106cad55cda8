package bench

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcopenstack "github.com/gophercloud/gophercloud/v2/openstack"
)

// The seed documents' best figures (a hand-built cluster's comparison of
// deduplicating backup tools on VM images: 2x6-core Xeon, SSD RAID 10).
const (
	seedAtticBackupSPerGB    = 5.68
	seedZbackupRestoreSPerGB = 4.54
)

// benchPage is the unit the synthetic stream is made of and changed in,
// InnoDB's page size.
const benchPage = 16 << 10

// TestBenchBackup is `make bench`'s backup comparison: the pipeline the
// nodes run (restic: compression, deduplication, encryption, Swift) and
// a plain stream (zstd | openssl enc | one Swift object per backup), on
// a synthetic datadir stream of PXC_BENCH_BACKUP_MB (default 1024) MB, in
// 3 successive backups with 1% of the pages changed between them: backup
// and restore seconds per GB (the restore read back to a SHA-256 that
// must match), and the bytes stored after each backup. The stream
// stands in for mariabackup's: the comparison is of what happens to the
// bytes after the backup tool, which both pipelines share.
func TestBenchBackup(t *testing.T) {
	if os.Getenv("PXC_BENCH") == "" {
		t.Skip("make bench sets PXC_BENCH=1 and starts a local cloud")
	}
	for _, tool := range []string{"restic", "zstd", "openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (tools/install-deps.sh)", tool)
		}
	}
	mb := 1024
	if v := os.Getenv("PXC_BENCH_BACKUP_MB"); v != "" {
		n, err := strconv.Atoi(v)
		must(t, err)
		mb = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	swift := swiftFromEnv(ctx, t)
	dir, err := os.MkdirTemp("/var/tmp", "pxc-bench-backup-")
	must(t, err)
	defer os.RemoveAll(dir)
	stream := filepath.Join(dir, "datadir.xbstream")
	t0 := time.Now()
	writeStream(t, stream, int64(mb)<<20)
	t.Logf("generated a %d MB stream in %s", mb, time.Since(t0).Round(time.Second))

	suffix := strconv.FormatInt(time.Now().Unix(), 36)
	pipelines := []backupPipeline{
		&resticPipeline{swift: swift, container: "bench-restic-" + suffix, password: "bench-" + suffix},
		&plainPipeline{swift: swift, container: "bench-plain-" + suffix, password: "bench-" + suffix},
	}
	gb := float64(mb) / 1024
	type result struct {
		backup, restore time.Duration
		stored          [3]int64
	}
	results := make([]result, len(pipelines))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3 {
		if i > 0 {
			changePages(t, stream, rng, 0.01)
		}
		want := fileSHA256(t, stream)
		for p, pl := range pipelines {
			start := time.Now()
			must(t, pl.backup(ctx, stream, i))
			results[p].backup += time.Since(start)
			stored, err := swift.bytesUsed(ctx, pl.name())
			must(t, err)
			results[p].stored[i] = stored
			start = time.Now()
			got, err := pl.restore(ctx, i)
			must(t, err)
			results[p].restore += time.Since(start)
			if got != want {
				t.Fatalf("%s: backup %d restored with SHA-256 %s, the stream's is %s", pl.label(), i+1, got, want)
			}
		}
	}
	for _, pl := range pipelines {
		pl.cleanup(ctx)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n== backups of a %d MB datadir stream: 3 backups, 1%% of the pages changed between them (restores verified by SHA-256)\n", mb)
	fmt.Fprintf(&b, "   %-34s %12s %13s   %s\n", "pipeline", "backup s/GB", "restore s/GB", "stored after backup 1 / 2 / 3 (MB)")
	for p, pl := range pipelines {
		r := results[p]
		fmt.Fprintf(&b, "   %-34s %12.2f %13.2f   %.0f / %.0f / %.0f\n", pl.label(),
			r.backup.Seconds()/3/gb, r.restore.Seconds()/3/gb,
			float64(r.stored[0])/(1<<20), float64(r.stored[1])/(1<<20), float64(r.stored[2])/(1<<20))
	}
	fmt.Fprintf(&b, "   %-34s %12.2f %13s   (seed: VM images, 2x6-core Xeon, SSD RAID 10)\n", "seed: Attic", seedAtticBackupSPerGB, "6.35")
	fmt.Fprintf(&b, "   %-34s %12s %13.2f\n", "seed: zbackup", "30.86", seedZbackupRestoreSPerGB)
	fmt.Print(b.String())
}

// writeStream writes size bytes of rows like a table's: an id, a name and
// a hex payload, in 16 KiB pages (compressible about 2:1, as data is).
func writeStream(t *testing.T, path string, size int64) {
	f, err := os.Create(path)
	must(t, err)
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	page := make([]byte, benchPage)
	for n := int64(0); n < size; n += benchPage {
		fillPage(page, uint64(n/benchPage), 0)
		_, err := w.Write(page)
		must(t, err)
	}
	must(t, w.Flush())
}

// fillPage fills one page with rows derived from its number and version.
func fillPage(page []byte, no, version uint64) {
	rng := rand.New(rand.NewPCG(no, version))
	var row [64]byte
	off := 0
	for id := no * 100; off < len(page); id++ {
		var h [16]byte
		for i := range h {
			h[i] = byte(rng.Uint32())
		}
		line := strconv.AppendUint(row[:0], id, 10)
		line = append(line, "|customer-"...)
		line = strconv.AppendUint(line, id%9973, 10)
		line = append(line, '|')
		line = hex.AppendEncode(line, h[:])
		line = append(line, '\n')
		off += copy(page[off:], line)
	}
}

// changePages rewrites a share of the stream's pages in place, as a day
// of updates touches some of a datadir's pages.
func changePages(t *testing.T, path string, rng *rand.Rand, share float64) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	fi, err := f.Stat()
	must(t, err)
	pages := fi.Size() / benchPage
	page := make([]byte, benchPage)
	for range int(float64(pages) * share) {
		no := rng.Int64N(pages)
		fillPage(page, uint64(no), rng.Uint64())
		_, err := f.WriteAt(page, no*benchPage)
		must(t, err)
	}
}

func fileSHA256(t *testing.T, path string) string {
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	must(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// benchSwift is the local cloud's object store as the bench machine
// reaches it.
type benchSwift struct {
	endpoint string // .../v1/AUTH_<project>/
	token    string
}

func swiftFromEnv(ctx context.Context, t *testing.T) *benchSwift {
	opts := gophercloud.AuthOptions{
		IdentityEndpoint: os.Getenv("OS_AUTH_URL"),
		Username:         os.Getenv("OS_USERNAME"), Password: os.Getenv("OS_PASSWORD"),
		DomainName: os.Getenv("OS_USER_DOMAIN_NAME"),
		Scope:      &gophercloud.AuthScope{ProjectName: os.Getenv("OS_PROJECT_NAME"), DomainName: os.Getenv("OS_PROJECT_DOMAIN_NAME")},
	}
	pc, err := gcopenstack.AuthenticatedClient(ctx, opts)
	must(t, err)
	sc, err := gcopenstack.NewObjectStorageV1(pc, gophercloud.EndpointOpts{Region: os.Getenv("OS_REGION_NAME")})
	must(t, err)
	token, err := pc.GetAuthResult().(interface{ ExtractTokenID() (string, error) }).ExtractTokenID()
	must(t, err)
	return &benchSwift{endpoint: sc.Endpoint, token: token}
}

func (s *benchSwift) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.endpoint+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Auth-Token", s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return resp, nil
}

// bytesUsed is X-Container-Bytes-Used: what the container stores.
func (s *benchSwift) bytesUsed(ctx context.Context, container string) (int64, error) {
	resp, err := s.do(ctx, http.MethodHead, container, nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return strconv.ParseInt(resp.Header.Get("X-Container-Bytes-Used"), 10, 64)
}

// deleteContainer empties and deletes a container.
func (s *benchSwift) deleteContainer(ctx context.Context, container string) {
	for {
		resp, err := s.do(ctx, http.MethodGet, container+"?limit=1000", nil)
		if err != nil {
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		names := strings.Fields(string(b))
		if len(names) == 0 {
			break
		}
		for _, n := range names {
			if r, err := s.do(ctx, http.MethodDelete, container+"/"+n, nil); err == nil {
				r.Body.Close()
			}
		}
	}
	if r, err := s.do(ctx, http.MethodDelete, container, nil); err == nil {
		r.Body.Close()
	}
}

type backupPipeline interface {
	name() string
	label() string
	backup(ctx context.Context, stream string, n int) error
	restore(ctx context.Context, n int) (sha string, err error)
	cleanup(ctx context.Context)
}

// sh runs a bash pipeline with extra environment and returns its stdout.
func sh(ctx context.Context, env []string, script string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// resticPipeline is what the nodes run (backup.go): one repository,
// compression and deduplication across backups, client-side encryption.
type resticPipeline struct {
	swift     *benchSwift
	container string
	password  string
	snapshots []string
}

func (p *resticPipeline) name() string  { return p.container }
func (p *resticPipeline) label() string { return "restic 0.14 (zstd, dedup, AES-256)" }

func (p *resticPipeline) env() []string {
	return []string{"RESTIC_REPOSITORY=swift:" + p.container + ":/", "RESTIC_PASSWORD=" + p.password}
}

func (p *resticPipeline) backup(ctx context.Context, stream string, n int) error {
	if n == 0 {
		if _, err := sh(ctx, p.env(), "restic --no-cache init >/dev/null"); err != nil {
			return fmt.Errorf("restic init: %w", err)
		}
	}
	out, err := sh(ctx, p.env(), "restic --no-cache backup --json --stdin --stdin-filename datadir.xbstream <"+stream+" | grep '\"message_type\":\"summary\"'")
	if err != nil {
		return fmt.Errorf("restic backup: %w", err)
	}
	i := strings.Index(out, `"snapshot_id":"`)
	if i < 0 {
		return fmt.Errorf("restic backup: no snapshot id in %s", out)
	}
	p.snapshots = append(p.snapshots, out[i+15:i+15+8])
	return nil
}

func (p *resticPipeline) restore(ctx context.Context, n int) (string, error) {
	return sh(ctx, p.env(), "restic --no-cache dump "+p.snapshots[n]+" /datadir.xbstream | sha256sum | cut -d' ' -f1")
}

func (p *resticPipeline) cleanup(ctx context.Context) { p.swift.deleteContainer(ctx, p.container) }

// plainPipeline is the simplest alternative: each backup one object,
// zstd-compressed and encrypted by openssl, uploaded as it streams.
type plainPipeline struct {
	swift     *benchSwift
	container string
	password  string
}

func (p *plainPipeline) name() string  { return p.container }
func (p *plainPipeline) label() string { return "zstd -3 | openssl aes-256-ctr | Swift" }

func (p *plainPipeline) env() []string {
	return []string{"BENCH_KEY=" + p.password, "BENCH_TOKEN=" + p.swift.token, "BENCH_URL=" + p.swift.endpoint + p.container}
}

func (p *plainPipeline) backup(ctx context.Context, stream string, n int) error {
	if n == 0 {
		if _, err := sh(ctx, p.env(), `curl -sSf -X PUT -H "X-Auth-Token: $BENCH_TOKEN" "$BENCH_URL" -o /dev/null`); err != nil {
			return err
		}
	}
	_, err := sh(ctx, p.env(), fmt.Sprintf(`zstd -q -T0 -3 -c <%s | openssl enc -aes-256-ctr -pbkdf2 -pass env:BENCH_KEY |
  curl -sSf -T - -H "X-Auth-Token: $BENCH_TOKEN" "$BENCH_URL/backup-%d" -o /dev/null`, stream, n))
	return err
}

func (p *plainPipeline) restore(ctx context.Context, n int) (string, error) {
	return sh(ctx, p.env(), fmt.Sprintf(`curl -sSf -H "X-Auth-Token: $BENCH_TOKEN" "$BENCH_URL/backup-%d" |
  openssl enc -d -aes-256-ctr -pbkdf2 -pass env:BENCH_KEY | zstd -q -d -c | sha256sum | cut -d' ' -f1`, n))
}

func (p *plainPipeline) cleanup(ctx context.Context) { p.swift.deleteContainer(ctx, p.container) }
