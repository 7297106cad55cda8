package octavia

import (
	"fmt"
	"regexp"
)

// Child kinds a child fault can fail.
const (
	ChildHealthMonitor = "healthmonitor"
	ChildMember        = "member"
)

// childFault is an armed asynchronous fault of a fully populated create:
// the create is accepted (201), and when the load balancer settles one
// child ends in provisioning_status ERROR.
type childFault struct {
	lbName *regexp.Regexp // the load balancer's name
	child  string         // ChildHealthMonitor or ChildMember
	member *regexp.Regexp // which member (by name); nil: the first
}

// FailNextChild arms a fault for the next fully populated create of a load
// balancer whose name matches lbName: the request is accepted, then its
// health monitor (child "healthmonitor") or a member (child "member"; the
// first whose name matches memberName, or the first one when memberName is
// nil) fails to be configured. That child ends in provisioning_status
// ERROR and stays out of HAProxy; everything else settles ACTIVE, the load
// balancer too. This is how Octavia ends a child whose create failed
// (its *ToErrorOnRevertTask marks the child ERROR and its listener, pool
// and load balancer ACTIVE again), and how provider drivers report one
// child of a graph create through the driver agent's status update. The
// operating statuses follow from what HAProxy runs: a failed member is
// never checked (OFFLINE), the pool of a failed monitor checks nothing
// (members NO_MONITOR).
func (s *Service) FailNextChild(lbName *regexp.Regexp, child string, memberName *regexp.Regexp) error {
	if lbName == nil {
		return fmt.Errorf("fail next %s: a load balancer name pattern is required", child)
	}
	switch child {
	case ChildHealthMonitor, ChildMember:
	default:
		return fmt.Errorf("fail next child: unknown child %q (%s, %s)", child, ChildHealthMonitor, ChildMember)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.childFaults = append(s.childFaults, childFault{lbName: lbName, child: child, member: memberName})
	return nil
}

// armChildFault takes the first armed fault matching lb (a fresh fully
// populated create) and marks the child it fails; the caller holds s.mu.
// A fault that finds no such child in lb stays armed.
func (s *Service) armChildFault(lb *loadBalancer) {
	for i, f := range s.childFaults {
		if !f.lbName.MatchString(lb.Name) {
			continue
		}
		if target := s.faultTarget(lb, f); target != nil {
			target.failing = true
			s.childFaults = append(s.childFaults[:i], s.childFaults[i+1:]...)
			return
		}
	}
}

// faultTarget is the child of lb that f fails, nil when lb has none.
func (s *Service) faultTarget(lb *loadBalancer, f childFault) *meta {
	for _, pid := range lb.Pools {
		p := s.pools[pid]
		if p == nil {
			continue
		}
		switch f.child {
		case ChildHealthMonitor:
			if hm := s.monitors[p.MonitorID]; hm != nil {
				return &hm.meta
			}
		case ChildMember:
			for _, mid := range p.Members {
				if m := s.members[mid]; m != nil && (f.member == nil || f.member.MatchString(m.Name)) {
					return &m.meta
				}
			}
		}
	}
	return nil
}
