//! Every default the language fills in when a spec leaves something out,
//! named in one place so that the docs, the plan and a reviewer agree on
//! what an unwritten keyword means.

/// `drain`: how long a stopping color gets between SIGTERM and SIGKILL,
/// in milliseconds; long enough for most in-flight requests to finish.
pub const DRAIN_MS: u64 = 30_000;

/// `health { interval }`: time between two probes of the new color, in
/// milliseconds.
pub const HEALTH_INTERVAL_MS: u64 = 1_000;

/// `health { timeout }`: how long one probe may take, in milliseconds.
pub const HEALTH_TIMEOUT_MS: u64 = 2_000;

/// `health { deadline }`: how long the gate waits for the new color to be
/// healthy before the deploy fails, in milliseconds.
pub const HEALTH_DEADLINE_MS: u64 = 120_000;

/// `health { expect }`: the status a probe must get; 0 means any 2xx.
pub const HEALTH_EXPECT_ANY_2XX: u16 = 0;

/// `health { healthy-after }`: consecutive successful probes the gate needs.
pub const HEALTHY_AFTER: u32 = 1;

/// `tag`: the image tag deployed when neither the spec nor the deploy
/// names one.
pub const TAG: &str = "latest";

/// `keep-previous`: the old color is kept (stopped) for a quick rollback.
pub const KEEP_PREVIOUS: bool = true;

/// `watch`: how long the new color is watched after the switch, in
/// milliseconds; 0 stops the old color at once.
pub const WATCH_MS: u64 = 0;

/// `parallel`: how many hosts of an app start or stop at once; 0 means all.
pub const PARALLEL_ALL: u32 = 0;

/// `host … ssh-port=`: the port ssh reaches a host on.
pub const SSH_PORT: u16 = 22;

/// The name of the implicit host when a spec names none.
pub const LOCAL_HOST: &str = "local";

/// `proxy { listen }`: the port nginx listens on when no `listen` is written.
pub const LISTEN_PORT: u16 = 80;

/// `webhook { listen }`: the port webhook serves on when no `listen` is
/// written, adnanh/webhook's own default (on every address, as its own too).
pub const WEBHOOK_PORT: u16 = 9000;

/// `proxy { image }`: a pinned nginx release, not a floating `stable` or
/// `latest`, so that the same kit runs the same nginx until someone changes
/// it in review. (A digest would pin it further, but one cannot be looked
/// up without reaching a registry.)
pub const PROXY_IMAGE: &str = "nginx:1.27.5";

/// Where nginx packages put the njs module: Debian's and the official
/// image's. A compose nginx whose image has it there and does not load it
/// itself gets it loaded (`nginx -g "load_module …;"`), so that it switches
/// without a reload.
pub const NJS_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_js_module.so";

/// `proxy { conf-dir }`: where a host or remote nginx reads its confs.
pub const PROXY_CONF_DIR: &str = "/etc/nginx/conf.d";

/// nginx's connect timeout when an upstream has several servers: a dead
/// host costs a request this long before it goes to the next server
/// (nginx's own default is 60s).
pub const QUICK_CONNECT: &str = "2s";

/// `tls { hsts max-age= }`: two years in seconds, as Mozilla's guidelines
/// give it.
pub const HSTS_MAX_AGE_SECS: u32 = 63_072_000;

/// `replicas`: the tasks of each color on a swarm.
pub const REPLICAS: u32 = 1;

/// `health { start-period }` on a swarm: a task's failed checks count from
/// its start.
pub const START_PERIOD_MS: u64 = 0;

/// `watch` on a swarm: as long as Swarm's own rolling update watches a new
/// task (`update_config.monitor`, 5s by default), so that a release that
/// dies just after its check passed is switched away from, as Swarm would
/// roll it back.
pub const SWARM_WATCH_MS: u64 = 5_000;
