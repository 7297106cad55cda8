package aptrepo

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runBuild is build; tests replace it.
var runBuild = build

// indexFiles are the index files a guest's apt fetches, relative to
// dists/<suite>/ (xz is the first compression apt asks for).
var indexFiles = []string{
	Component + "/binary-" + Arch + "/Packages.xz",
	Component + "/i18n/Translation-en.xz",
}

// build makes the mirror in dir from scratch: apt resolves Packages
// against the image's dpkg status, then Debian's InRelease, the index
// files it names and the closure's .debs are copied, each checked against
// a hash apt verified.
func build(ctx context.Context, imageRoot, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove a failed build: %w", err)
	}
	work := filepath.Join(dir, "apt")
	for _, d := range []string{"lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return err
		}
	}
	sources := filepath.Join(work, "sources.list")
	if err := os.WriteFile(sources, []byte(fmt.Sprintf("deb %s %s %s\n", mirror(), Suite, Component)), 0o644); err != nil {
		return err
	}
	// The machine's apt and keyring with a configuration and state of its
	// own (APT_CONFIG is read before the machine's apt.conf.d, which it
	// replaces: that may recompress lists or fetch extra indexes): the
	// image's dpkg status (what is installed there), private lists and
	// cache, no lock on the image, no Recommends (the guest library
	// installs without them).
	conf := filepath.Join(work, "apt.conf")
	settings := map[string]string{
		"Dir::Etc::Parts":             filepath.Join(work, "apt.conf.d"),
		"Dir::Etc::Main":              "/dev/null",
		"Dir::Etc::SourceList":        sources,
		"Dir::Etc::SourceParts":       filepath.Join(work, "sources.list.d"),
		"Dir::State::Lists":           filepath.Join(work, "lists"),
		"Dir::Cache":                  filepath.Join(work, "cache"),
		"Dir::State::status":          filepath.Join(imageRoot, "var", "lib", "dpkg", "status"),
		"Dir::State::extended_states": filepath.Join(work, "extended_states"),
		"Debug::NoLocking":            "true",
		"APT::Architecture":           Arch,
		"APT::Install-Recommends":     "false",
		"Acquire::Languages":          "none",
		"Acquire::GzipIndexes":        "false",
		"Acquire::IndexTargets::deb::DEP-11::DefaultEnabled": "false",
	}
	var cb strings.Builder
	for k, v := range settings {
		fmt.Fprintf(&cb, "%s %q;\n", k, v)
	}
	cb.WriteString("APT::Architectures { \"" + Arch + "\"; };\n")
	if err := os.WriteFile(conf, []byte(cb.String()), 0o644); err != nil {
		return err
	}
	apt := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "APT_CONFIG="+conf, "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
		return cmd
	}
	if out, err := apt("update", "-q").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update against %s: %w: %s", mirror(), err, tail(out))
	}
	out, err := apt(append([]string{"install", "-qq", "-y", "--print-uris"}, Packages...)...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return fmt.Errorf("resolve %s against the plain image: %w: %s", strings.Join(Packages, " "), err, tail(stderr))
	}
	poolSums, err := indexSHA256(filepath.Join(work, "lists"))
	if err != nil {
		return err
	}
	debs, err := parseURIs(out, poolSums)
	if err != nil {
		return err
	}

	inRelease, err := findInRelease(filepath.Join(work, "lists"))
	if err != nil {
		return err
	}
	signed, err := os.ReadFile(inRelease)
	if err != nil {
		return fmt.Errorf("read InRelease: %w", err)
	}
	hashes := releaseSHA256(signed)
	root := filepath.Join(dir, "debian")
	dists := filepath.Join(root, "dists", Suite)
	if err := os.MkdirAll(dists, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dists, "InRelease"), signed, 0o644); err != nil {
		return err
	}
	var files []download
	for _, f := range indexFiles {
		sum, ok := hashes[f]
		if !ok {
			return fmt.Errorf("InRelease of %s names no %s", Suite, f)
		}
		files = append(files, download{
			url:    mirror() + "/dists/" + Suite + "/" + f,
			sha256: sum,
			paths: []string{
				filepath.Join(dists, filepath.FromSlash(f)),
				// apt asks by hash first (Acquire-By-Hash: yes).
				filepath.Join(dists, filepath.FromSlash(path.Dir(f)), "by-hash", "SHA256", sum),
			},
		})
	}
	var pool []string
	for _, d := range debs {
		rel := d.paths[0]
		d.paths = []string{filepath.Join(root, filepath.FromSlash(rel))}
		files = append(files, d)
		pool = append(pool, rel)
	}
	if err := fetchAll(ctx, files); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "debs"), []byte(strings.Join(pool, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return os.RemoveAll(work)
}

// download is one file to fetch, its expected SHA-256 and where it goes
// (the first path; the others are hard links).
type download struct {
	url    string
	sha256 string
	paths  []string
}

// parseURIs reads apt-get --print-uris (one line per package: 'URI' file
// size hash) and takes each file's SHA-256 from the verified index,
// poolSHA256 (apt may print a weaker hash).
func parseURIs(out []byte, poolSHA256 map[string]string) ([]download, error) {
	var debs []download
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || !strings.HasPrefix(f[0], "'") {
			continue
		}
		uri := strings.Trim(f[0], "'")
		rel, ok := strings.CutPrefix(uri, mirror()+"/")
		if !ok || !strings.HasPrefix(rel, "pool/") {
			return nil, fmt.Errorf("apt would fetch %s, which is not in %s's pool", uri, mirror())
		}
		// The URI is quoted; the file is stored under the path a server
		// decodes from a guest's request, the index's Filename.
		rel, err := url.PathUnescape(rel)
		if err != nil {
			return nil, fmt.Errorf("apt printed a malformed URI %s: %w", uri, err)
		}
		sum, ok := poolSHA256[rel]
		if !ok {
			return nil, fmt.Errorf("the index has no SHA256 for %s", rel)
		}
		debs = append(debs, download{url: uri, sha256: sum, paths: []string{rel}})
	}
	if len(debs) == 0 {
		return nil, fmt.Errorf("apt found nothing to fetch for %s (already in the image?): %s", strings.Join(Packages, " "), tail(out))
	}
	return debs, nil
}

// indexSHA256 maps the Filename of every package in the Packages index apt
// fetched into lists to its SHA256.
func indexSHA256(lists string) (map[string]string, error) {
	m, _ := filepath.Glob(filepath.Join(lists, "*_dists_"+Suite+"_"+Component+"_binary-"+Arch+"_Packages"))
	if len(m) != 1 {
		return nil, fmt.Errorf("apt left %d Packages indexes in %s, want 1", len(m), lists)
	}
	f, err := os.Open(m[0])
	if err != nil {
		return nil, fmt.Errorf("read the Packages index: %w", err)
	}
	defer f.Close()
	sums := map[string]string{}
	var name, sum string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if name != "" && sum != "" {
				sums[name] = sum
			}
			name, sum = "", ""
		case strings.HasPrefix(line, "Filename: "):
			name = strings.TrimPrefix(line, "Filename: ")
		case strings.HasPrefix(line, "SHA256: "):
			sum = strings.TrimPrefix(line, "SHA256: ")
		}
	}
	if name != "" && sum != "" {
		sums[name] = sum
	}
	return sums, sc.Err()
}

// findInRelease is the InRelease apt fetched and verified into lists.
func findInRelease(lists string) (string, error) {
	m, _ := filepath.Glob(filepath.Join(lists, "*_dists_"+Suite+"_InRelease"))
	if len(m) != 1 {
		return "", fmt.Errorf("apt left %d InRelease files for %s in %s, want 1", len(m), Suite, lists)
	}
	return m[0], nil
}

// releaseSHA256 maps the files of a Release's SHA256 section to their hash.
func releaseSHA256(release []byte) map[string]string {
	sums := map[string]string{}
	in := false
	for _, line := range strings.Split(string(release), "\n") {
		switch {
		case strings.HasPrefix(line, "SHA256:"):
			in = true
		case in && strings.HasPrefix(line, " "):
			if f := strings.Fields(line); len(f) == 3 {
				sums[f[2]] = f[0]
			}
		default:
			in = false
		}
	}
	return sums
}

// fetchAll downloads the files, four at a time.
func fetchAll(ctx context.Context, files []download) error {
	jobs := make(chan download)
	errs := make(chan error, len(files))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				errs <- fetch(ctx, d)
			}
		}()
	}
	for _, d := range files {
		jobs <- d
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// fetchClient bounds a stalled download.
var fetchClient = &http.Client{Timeout: 10 * time.Minute}

// fetch downloads one file, refusing it unless its SHA-256 is the expected
// one.
func fetch(ctx context.Context, d download) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return err
	}
	resp, err := fetchClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", d.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: %s", d.url, resp.Status)
	}
	dst := d.paths[0]
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetch %s: %w", d.url, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.sha256 {
		_ = os.Remove(tmp)
		return fmt.Errorf("fetch %s: SHA-256 %s (%s bytes), want %s", d.url, got, strconv.FormatInt(n, 10), d.sha256)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	for _, p := range d.paths[1:] {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Link(dst, p); err != nil {
			return fmt.Errorf("link %s: %w", p, err)
		}
	}
	return nil
}

// tail is the end of a command's output, for an error message.
func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 800 {
		s = "…" + s[len(s)-800:]
	}
	return s
}
