package guest

import (
	"context"
	"fmt"
	"strings"
)

// Account is one MySQL account: 'Name'@'Host'.
type Account struct {
	Name string
	Host string
}

// Accounts lists the accounts whose name starts with prefix, read on one
// healthy member (accounts replicate, so any healthy member has them all).
func (c *Cluster) Accounts(ctx context.Context, prefix string) ([]Account, error) {
	var out []Account
	err := c.onHealthy(ctx, func(ctx context.Context, n *node) error {
		db, err := n.sqlDB(ctx)
		if err != nil {
			return err
		}
		rows, err := db.QueryContext(ctx, "SELECT User, Host FROM mysql.user WHERE User LIKE ?", likePrefix(prefix))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a Account
			if err := rows.Scan(&a.Name, &a.Host); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts %s*: %w", prefix, err)
	}
	return out, nil
}

// onHealthy runs f on the first Synced, Primary member.
func (c *Cluster) onHealthy(ctx context.Context, f func(context.Context, *node) error) error {
	for _, n := range c.nodes() {
		st, err := c.nodeStatus(ctx, n)
		if err != nil || !st.Healthy() {
			continue
		}
		if err := f(ctx, n); err != nil {
			return c.mask.err(fmt.Errorf("on %s: %w", n.Name, err))
		}
		return nil
	}
	return fmt.Errorf("no healthy member to run on")
}

// likePrefix is a LIKE pattern matching names that start with prefix.
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}
