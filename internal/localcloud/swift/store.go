package swift

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// On disk, below the state directory:
//
//	<account>/account.json                      account record
//	<account>/c-<sha256(container)>/container.json
//	<account>/c-<...>/o-<sha256(object)>.json     object record
//	<account>/c-<...>/o-<...>-<random>.data       object bytes
//
// Names are hashed because object names may hold "/" and be up to 1024
// bytes; the records keep the real names. A record is written (temp file,
// rename) after its data file, so a crash leaves at most an orphan data
// file, never a record without bytes.

type accountRecord struct {
	Name    string            `json:"name"`
	Created time.Time         `json:"created"`
	Meta    map[string]string `json:"meta"`
}

type containerRecord struct {
	Name    string            `json:"name"`
	Created time.Time         `json:"created"`
	Meta    map[string]string `json:"meta"`
}

// objectRecord describes one object. For a static large object DataFile is
// empty and Segments lists its parts.
type objectRecord struct {
	Name        string            `json:"name"`
	Size        int64             `json:"bytes"`
	ETag        string            `json:"etag"` // hex MD5 of the bytes; of the manifest for an SLO
	ContentType string            `json:"content_type"`
	Modified    time.Time         `json:"modified"`
	Meta        map[string]string `json:"meta"` // canonical header name -> value
	DeleteAt    int64             `json:"delete_at,omitempty"`
	DataFile    string            `json:"data_file,omitempty"`
	Segments    []segment         `json:"segments,omitempty"`
	SLOETag     string            `json:"slo_etag,omitempty"` // MD5 of the segments' MD5s
}

func (o *objectRecord) isSLO() bool { return o.Segments != nil }

// expired tells whether the object's X-Delete-At has been reached.
func (o *objectRecord) expired(now time.Time) bool {
	return o.DeleteAt != 0 && o.DeleteAt <= now.Unix()
}

type account struct {
	rec        accountRecord
	dir        string
	containers map[string]*container
}

type container struct {
	rec     containerRecord
	dir     string
	objects map[string]*objectRecord
}

func hashName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16])
}

func (c *container) recordPath(object string) string {
	return filepath.Join(c.dir, "o-"+hashName(object)+".json")
}

func (c *container) dataPath(o *objectRecord) string { return filepath.Join(c.dir, o.DataFile) }

// newDataFile names a fresh data file for object (a new version never
// overwrites the bytes a running download reads).
func newDataFile(object string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "o-" + hashName(object) + "-" + hex.EncodeToString(b[:]) + ".data"
}

// writeRecord writes v as JSON to path atomically.
func writeRecord(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func readRecord(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// loadAccounts rebuilds the index from the state directory and removes
// what an interrupted write left (temp files, data files no record names).
func loadAccounts(dir string) (map[string]*account, error) {
	accounts := map[string]*account{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return accounts, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read object store dir: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		a := &account{dir: filepath.Join(dir, e.Name()), containers: map[string]*container{}}
		if err := readRecord(filepath.Join(a.dir, "account.json"), &a.rec); err != nil {
			return nil, fmt.Errorf("load account %s: %w", e.Name(), err)
		}
		if err := a.loadContainers(); err != nil {
			return nil, err
		}
		accounts[a.rec.Name] = a
	}
	return accounts, nil
}

func (a *account) loadContainers() error {
	entries, err := os.ReadDir(a.dir)
	if err != nil {
		return fmt.Errorf("load account %s: %w", a.rec.Name, err)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "c-") {
			continue
		}
		c := &container{dir: filepath.Join(a.dir, e.Name()), objects: map[string]*objectRecord{}}
		if err := readRecord(filepath.Join(c.dir, "container.json"), &c.rec); err != nil {
			return fmt.Errorf("load container in %s: %w", a.rec.Name, err)
		}
		if err := c.loadObjects(); err != nil {
			return err
		}
		a.containers[c.rec.Name] = c
	}
	return nil
}

func (c *container) loadObjects() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("load container %s: %w", c.rec.Name, err)
	}
	referenced := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "o-") || !strings.HasSuffix(name, ".json") {
			continue
		}
		o := &objectRecord{}
		if err := readRecord(filepath.Join(c.dir, name), o); err != nil {
			return fmt.Errorf("load object in container %s: %w", c.rec.Name, err)
		}
		c.objects[o.Name] = o
		referenced[o.DataFile] = true
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") || (strings.HasSuffix(name, ".data") && !referenced[name]) {
			_ = os.Remove(filepath.Join(c.dir, name))
		}
	}
	return nil
}
