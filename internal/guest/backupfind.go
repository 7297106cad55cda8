package guest

import (
	"context"
	"fmt"
	"strings"
)

// FindBackup looks a backup up in the repository, whichever cluster took
// it (a restore into a new cluster names another cluster's backup): by id
// (a prefix of at least 8 hex digits), or the newest when id is empty. It
// runs on the cluster's first node, which needs restic but no database;
// a wrong key or an unreadable repository fails here, before anything is
// restored.
func (c *Cluster) FindBackup(ctx context.Context, repo BackupRepository, id string) (BackupInfo, error) {
	if err := repo.Validate(); err != nil {
		return BackupInfo{}, err
	}
	if id != "" && !snapshotIDRe.MatchString(id) {
		return BackupInfo{}, fmt.Errorf("backup id %q: use the id of a backup (8 to 64 hex digits)", id)
	}
	c.mask.add(repo.secrets()...)
	n := c.nodes()[0]
	if err := c.ensurePackages(ctx, n); err != nil {
		return BackupInfo{}, fmt.Errorf("find backup on node %s: %w", n.Name, err)
	}
	out, err := c.runRestic(ctx, n, "restic snapshots --json\n", repo)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("list the backups in %s: %w", repo.Repository, explainResticError(err))
	}
	list, err := parseSnapshots(out)
	if err != nil {
		return BackupInfo{}, err
	}
	return pickBackup(list, id, repo.Repository)
}

// pickBackup is the snapshot with id, or the newest.
func pickBackup(list []BackupInfo, id, where string) (BackupInfo, error) {
	if len(list) == 0 {
		return BackupInfo{}, fmt.Errorf("no backup in %s", where)
	}
	if id == "" {
		return list[len(list)-1], nil
	}
	var found []BackupInfo
	for _, b := range list {
		if strings.HasPrefix(b.ID, id) {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		return BackupInfo{}, fmt.Errorf("no backup %s in %s", id, where)
	case 1:
		if found[0].Cluster == "" {
			return BackupInfo{}, fmt.Errorf("backup %s in %s was not taken by this provider (no cluster tag)", id, where)
		}
		return found[0], nil
	}
	return BackupInfo{}, fmt.Errorf("backup id %s is ambiguous in %s: give more digits", id, where)
}

// explainResticError says in words what restic's fatal errors mean.
func explainResticError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "wrong password or no key found"):
		return fmt.Errorf("the backup key is wrong: it does not open the repository (%w)", err)
	case strings.Contains(msg, "unable to open config file"), strings.Contains(msg, "Is there a repository at the following location?"):
		return fmt.Errorf("there is no backup repository there (%w)", err)
	}
	return err
}
