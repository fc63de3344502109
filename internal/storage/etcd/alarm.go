package etcd

import (
	"context"
	"fmt"
	"log/slog"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DisarmNoSpace clears etcd's NOSPACE alarms, as an operator would with
// `etcdctl alarm disarm` once space is back; while the alarm is raised
// etcd refuses every write with "etcdserver: mvcc: database space
// exceeded". It logs each alarm it clears.
func DisarmNoSpace(ctx context.Context, client *clientv3.Client, log *slog.Logger) error {
	resp, err := client.AlarmList(ctx)
	if err != nil {
		return fmt.Errorf("list etcd alarms: %w", err)
	}
	for _, a := range resp.Alarms {
		if a.Alarm != pb.AlarmType_NOSPACE {
			continue
		}
		if _, err := client.AlarmDisarm(ctx, (*clientv3.AlarmMember)(a)); err != nil {
			return fmt.Errorf("disarm etcd's NOSPACE alarm: %w", err)
		}
		log.Info("disarmed etcd's NOSPACE alarm: space is back", "member", fmt.Sprintf("%x", a.MemberID))
	}
	return nil
}
