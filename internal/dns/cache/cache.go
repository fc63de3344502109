package cache

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults, as in CoreDNS's cache plugin.
const (
	// DefaultCapacity is the default number of entries of each of the
	// success and denial caches (CoreDNS: 256 shards of 39 entries).
	DefaultCapacity = 9984
	// DefaultSuccessTTL caps the TTL of cached answers.
	DefaultSuccessTTL = 3600 * time.Second
	// DefaultDenialTTL caps the TTL of cached NXDOMAIN and NODATA answers.
	DefaultDenialTTL = 1800 * time.Second
	// DefaultMinTTL is the lowest TTL an entry is cached for.
	DefaultMinTTL = 5 * time.Second
	// DefaultServerFailureTTL is how long a SERVFAIL is cached.
	DefaultServerFailureTTL = 5 * time.Second
	// DefaultServer is the default value of the metrics' server label.
	DefaultServer = "dns://:53"
)

// Config configures a Cache. The zero value gives CoreDNS's defaults.
type Config struct {
	// Capacity is the maximum number of entries in each of the success
	// and the denial cache; 0 means DefaultCapacity.
	Capacity int
	// SuccessTTL caps how long an answer is cached; 0 means 3600 s.
	SuccessTTL time.Duration
	// DenialTTL caps how long NXDOMAIN and NODATA are cached; 0 means
	// 1800 s.
	DenialTTL time.Duration
	// MinTTL is the shortest time anything is cached; 0 means 5 s.
	MinTTL time.Duration
	// ServerFailureTTL is how long SERVFAIL and NOTIMP answers are cached;
	// 0 means 5 s, a negative value disables caching them.
	ServerFailureTTL time.Duration
	// Now returns the current time; nil means time.Now. Tests inject a
	// clock here.
	Now func() time.Time
	// Registry, if not nil, receives the coredns_cache_* metrics.
	Registry prometheus.Registerer
	// Server is the value of the metrics' server label; "" means
	// "dns://:53".
	Server string
}

// Cache is a concurrency-safe DNS response cache.
type Cache struct {
	cfg     Config
	success *store
	denial  *store
	stats   counters
}

// counters are the cache's statistics, read by Stats and the metrics.
type counters struct {
	requests, successHits, denialHits, misses atomic.Uint64
	successEvictions, denialEvictions, drops  atomic.Uint64
}

// Stats is a snapshot of the cache's counters.
type Stats struct {
	Requests         uint64 // lookups (Get calls with one question)
	SuccessHits      uint64 // lookups answered from the success cache
	DenialHits       uint64 // lookups answered from the denial cache
	Misses           uint64 // lookups not answered
	SuccessEvictions uint64 // live entries evicted from the success cache
	DenialEvictions  uint64 // live entries evicted from the denial cache
	Drops            uint64 // responses not cached because they did not match their request
}

// New returns an empty cache. It fails only when the metrics cannot be
// registered.
func New(cfg Config) (*Cache, error) {
	cfg = withDefaults(cfg)
	c := &Cache{cfg: cfg, success: newStore(cfg.Capacity), denial: newStore(cfg.Capacity)}
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(newCollector(c)); err != nil {
			return nil, fmt.Errorf("register cache metrics: %w", err)
		}
	}
	return c, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.SuccessTTL <= 0 {
		cfg.SuccessTTL = DefaultSuccessTTL
	}
	if cfg.DenialTTL <= 0 {
		cfg.DenialTTL = DefaultDenialTTL
	}
	if cfg.MinTTL <= 0 {
		cfg.MinTTL = DefaultMinTTL
	}
	if cfg.ServerFailureTTL == 0 {
		cfg.ServerFailureTTL = DefaultServerFailureTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Server == "" {
		cfg.Server = DefaultServer
	}
	return cfg
}

// Get returns the cached response to req, with req's ID and question and
// every TTL decremented by the entry's age, or nil on a miss.
func (c *Cache) Get(req *dns.Msg) *dns.Msg {
	if _, ok := keyOf(req); !ok {
		return nil
	}
	if m := c.Peek(req); m != nil {
		return m
	}
	c.stats.requests.Add(1)
	c.stats.misses.Add(1)
	return nil
}

// Peek is Get that counts a hit (as a request and a hit) but not a miss,
// for a caller that will Get the same request again on a miss.
func (c *Cache) Peek(req *dns.Msg) *dns.Msg {
	k, ok := keyOf(req)
	if !ok {
		return nil
	}
	now := c.cfg.Now()
	e := c.denial.live(k, now)
	hits := &c.stats.denialHits
	if e == nil {
		e, hits = c.success.live(k, now), &c.stats.successHits
	}
	if e == nil {
		return nil
	}
	c.stats.requests.Add(1)
	hits.Add(1)
	return e.reply(req, now)
}

// Set caches resp, the answer to req, if it can be cached. Like CoreDNS
// it rewrites the TTLs of resp's records to the time the entry is cached
// for, so that the first client sees the same TTL as later ones.
func (c *Cache) Set(req, resp *dns.Msg) {
	k, ok := keyOf(req)
	if !ok || resp == nil {
		return
	}
	kind, ttl, ok := c.classify(resp)
	if !ok {
		return
	}
	if !sameQuestion(req, resp) {
		c.stats.drops.Add(1)
		return
	}
	setTTLs(resp, ttl)
	e := newEntry(resp, c.cfg.Now(), ttl)
	into, other, evictions := c.success, c.denial, &c.stats.successEvictions
	if kind == denial {
		into, other, evictions = c.denial, c.success, &c.stats.denialEvictions
	}
	if into.add(k, e) {
		evictions.Add(1)
	}
	other.remove(k)
}

// Len returns the number of entries in the success and the denial cache,
// expired ones included until they are replaced or evicted.
func (c *Cache) Len() (success, denial int) { return c.success.len(), c.denial.len() }

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	s := &c.stats
	return Stats{
		Requests: s.requests.Load(), SuccessHits: s.successHits.Load(), DenialHits: s.denialHits.Load(),
		Misses: s.misses.Load(), SuccessEvictions: s.successEvictions.Load(),
		DenialEvictions: s.denialEvictions.Load(), Drops: s.drops.Load(),
	}
}

// key identifies a cached response. The name is lower case.
type key struct {
	name          string
	qtype, qclass uint16
	do, cd        bool
}

func keyOf(req *dns.Msg) (key, bool) {
	if req == nil || len(req.Question) != 1 {
		return key{}, false
	}
	q := req.Question[0]
	do := false
	if opt := req.IsEdns0(); opt != nil {
		do = opt.Do()
	}
	return key{name: strings.ToLower(q.Name), qtype: q.Qtype, qclass: q.Qclass, do: do, cd: req.CheckingDisabled}, true
}

func sameQuestion(req, resp *dns.Msg) bool {
	if len(resp.Question) != 1 {
		return false
	}
	a, b := req.Question[0], resp.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}
