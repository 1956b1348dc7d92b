/* rapl-energy-probe: what the rapl_energy plugin would read on this machine,
 * and why. It links the plugin's reader library, so the backend it names,
 * the zones, their units and bounds, and the messages are the plugin's own,
 * not those of a second implementation. */
#include "backend.h"
#include "config_watch.h"
#include "energy_counter.h"
#include "rapl_log.h"
#include "rapl_options.h"
#include "reader.h"
#include "zone_kind.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef RAPL_ENERGY_VERSION
#define RAPL_ENERGY_VERSION "unknown"
#endif

#define PROG "rapl-energy-probe"

/* The exit status says what an operator's script needs to know. */
#define EXIT_BACKEND 0 /* a backend works */
#define EXIT_NONE 1    /* no backend works */
#define EXIT_USAGE 2   /* usage or configuration error */

struct options {
  struct rapl_config cfg;
  const char *config_file;
  bool json;
  bool verbose;
  bool list_options;
  double watch_s; /* 0: no live watts */
  double interval_s;
};

/* ------------------------------------------------------------ messages */

/* What the library logs: shown on stderr as it comes (INFO and DEBUG only
 * with --verbose), and kept for --json. */
struct message {
  int level;
  char text[RAPL_LOG_MAX + 1];
};

static struct {
  struct message *v;
  size_t n, cap;
  int shown_level;
} messages = {.shown_level = RAPL_LOG_NOTICE};

static const char *level_word(int level) {
  switch (level) {
  case RAPL_LOG_ERR:
    return "error";
  case RAPL_LOG_WARNING:
    return "warning";
  case RAPL_LOG_NOTICE:
    return "notice";
  case RAPL_LOG_INFO:
    return "info";
  default:
    return "debug";
  }
}

static void log_sink(int level, const char *text, void *ud) {
  (void)ud;
  if (level > messages.shown_level)
    return;
  fprintf(stderr, PROG ": %s: %s\n", level_word(level), text);
  if (messages.n == messages.cap) {
    size_t cap = messages.cap ? messages.cap * 2 : 16;
    struct message *v = realloc(messages.v, cap * sizeof(*v));
    if (v == NULL)
      return;
    messages.v = v;
    messages.cap = cap;
  }
  messages.v[messages.n].level = level;
  snprintf(messages.v[messages.n].text, sizeof(messages.v[0].text), "%s", text);
  messages.n++;
}

/* ---------------------------------------------------------------- JSON */

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", f);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void json_key(FILE *f, const char *key, bool *first) {
  if (!*first)
    fputc(',', f);
  *first = false;
  json_string(f, key);
  fputc(':', f);
}

/* The shortest decimal that reads back as v: a unit such as perf's 2^-32 J
 * comes out exact, 45.5 W stays "45.5". */
static void json_number(FILE *f, double v) {
  char text[32];
  if (!isfinite(v)) {
    fputs("null", f);
    return;
  }
  for (int digits = 10; digits <= 17; digits++) {
    snprintf(text, sizeof(text), "%.*g", digits, v);
    if (strtod(text, NULL) == v)
      break;
  }
  fputs(text, f);
}

static void json_messages(FILE *f) {
  fputc('[', f);
  for (size_t i = 0; i < messages.n; i++) {
    bool first = true;
    fputs(i ? ",{" : "{", f);
    json_key(f, "level", &first);
    json_string(f, level_word(messages.v[i].level));
    json_key(f, "text", &first);
    json_string(f, messages.v[i].text);
    fputc('}', f);
  }
  fputc(']', f);
}

static void json_config(FILE *f, const struct rapl_config *cfg) {
  bool first = true;
  char value[RAPL_PATH_MAX];
  fputc('{', f);
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    if (o->id == RAPL_OPT_CONFIG_FILE)
      continue;
    rapl_option_format(o, cfg, value, sizeof(value));
    json_key(f, o->collectd_key, &first);
    if (o->type == RAPL_OPT_BOOL)
      fputs(value, f);
    else if (o->type == RAPL_OPT_SECONDS)
      json_number(f, cfg->msr_min_interval);
    else
      json_string(f, value);
  }
  fputc('}', f);
}

/* ----------------------------------------------------- the option table */

static const char *type_name(enum rapl_option_type t) {
  switch (t) {
  case RAPL_OPT_PATH:
    return "path";
  case RAPL_OPT_ZONES:
    return "zones";
  case RAPL_OPT_BOOL:
    return "boolean";
  case RAPL_OPT_TEMPLATE:
    return "template";
  case RAPL_OPT_SECONDS:
    return "seconds";
  }
  return "?";
}

static void yaml_keys(const struct rapl_option *o, char *out, size_t outlen) {
  size_t n = 0;
  out[0] = '\0';
  for (size_t k = 0; k < RAPL_OPTION_YAML_MAX && o->yaml[k].section; k++) {
    int w = snprintf(out + n, outlen - n, "%s%s.%s", n ? ", " : "",
                     o->yaml[k].section, o->yaml[k].key);
    if (w < 0 || (size_t)w >= outlen - n)
      break;
    n += (size_t)w;
  }
}

static void list_options(bool json) {
  char keys[128];
  if (json) {
    fputc('[', stdout);
    for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
      const struct rapl_option *o = &rapl_options[i];
      bool first = true;
      fputs(i ? ",\n{" : "\n{", stdout);
      json_key(stdout, "collectd", &first);
      json_string(stdout, o->collectd_key);
      json_key(stdout, "yaml", &first);
      fputc('[', stdout);
      for (size_t k = 0; k < RAPL_OPTION_YAML_MAX && o->yaml[k].section; k++) {
        snprintf(keys, sizeof(keys), "%s.%s", o->yaml[k].section,
                 o->yaml[k].key);
        if (k)
          fputc(',', stdout);
        json_string(stdout, keys);
      }
      fputc(']', stdout);
      json_key(stdout, "flag", &first);
      if (o->flag) {
        snprintf(keys, sizeof(keys), "--%s", o->flag);
        json_string(stdout, keys);
      } else {
        fputs("null", stdout);
      }
      json_key(stdout, "type", &first);
      json_string(stdout, type_name(o->type));
      json_key(stdout, "default", &first);
      json_string(stdout, o->default_text);
      json_key(stdout, "repeatable", &first);
      fputs(o->repeatable ? "true" : "false", stdout);
      json_key(stdout, "help", &first);
      json_string(stdout, o->help);
      fputc('}', stdout);
    }
    fputs("\n]\n", stdout);
    return;
  }
  printf("%-15s %-40s %-20s %-9s %s\n", "COLLECTD", "YAML", "FLAG", "TYPE",
         "DEFAULT");
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    char flag[64];
    yaml_keys(o, keys, sizeof(keys));
    snprintf(flag, sizeof(flag), "%s%s", o->flag ? "--" : "",
             o->flag ? o->flag : "-");
    printf("%-15s %-40s %-20s %-9s %s\n", o->collectd_key, keys[0] ? keys : "-",
           flag, type_name(o->type), o->default_text);
    printf("%-15s %s\n", "", o->help);
  }
}

static void usage(FILE *f) {
  fprintf(f,
          "Usage: " PROG " [OPTION]...\n"
          "Shows which backend the rapl_energy collectd plugin would use on "
          "this machine,\nwhy each other one cannot or may not, and the "
          "zones it would report.\n\n"
          "  -w, --watch=SECONDS    then show live watts per zone for SECONDS\n"
          "  -i, --interval=SECONDS time between readings with --watch "
          "(default 1)\n"
          "  -j, --json             print one JSON document instead of "
          "tables\n"
          "  -v, --verbose          also show the library's informational "
          "messages\n"
          "      --options          list the plugin's options (collectd key, "
          "YAML keys, flag)\n"
          "  -h, --help             show this help and exit\n"
          "  -V, --version          show the version and exit\n\n"
          "The plugin's options (--config checks FILE and reads no "
          "counter):\n");
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    char spec[64];
    if (o->flag == NULL)
      continue;
    snprintf(spec, sizeof(spec), "--%s%s%s%s", o->flag,
             o->type == RAPL_OPT_BOOL ? "[=" : "=", o->value_name,
             o->type == RAPL_OPT_BOOL ? "]" : "");
    fprintf(f, "      %-27s %s (%s)\n", spec, o->help, o->collectd_key);
  }
  fprintf(f, "\nExit status: 0 a backend works, 1 none works, 2 usage or "
             "configuration error.\nSee rapl-energy-probe(1) and "
             "collectd-rapl_energy(5).\n");
}

/* ------------------------------------------------------------ arguments */

enum { OPT_OPTIONS = 256, OPT_TABLE = 512 };

static int parse_seconds_arg(const char *flag, const char *arg, double min,
                             double max, double *out) {
  char *end = NULL;
  double v = strtod(arg, &end);
  if (arg[0] == '\0' || end == NULL || *end != '\0' || !(v >= min) ||
      !(v <= max)) {
    char q[RAPL_QUOTE_LEN(64)];
    rapl_config_quote(arg, strlen(arg), 64, q, sizeof(q));
    fprintf(stderr, PROG ": %s: expected seconds between %g and %g, found %s\n",
            flag, min, max, q);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_args(int argc, char **argv, struct options *opt) {
  struct option longs[RAPL_OPT_COUNT + 8];
  size_t n = 0;
  bool zone_seen = false;
  static const struct option own[] = {
      {"watch", required_argument, NULL, 'w'},
      {"interval", required_argument, NULL, 'i'},
      {"json", no_argument, NULL, 'j'},
      {"verbose", no_argument, NULL, 'v'},
      {"options", no_argument, NULL, OPT_OPTIONS},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
  };
  for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
    longs[n++] = own[i];
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    if (o->flag == NULL)
      continue;
    longs[n].name = o->flag;
    longs[n].has_arg =
        o->type == RAPL_OPT_BOOL ? optional_argument : required_argument;
    longs[n].flag = NULL;
    longs[n].val = OPT_TABLE + (int)o->id;
    n++;
  }
  memset(&longs[n], 0, sizeof(longs[n]));

  rapl_config_defaults(&opt->cfg);
  opt->interval_s = 1.0;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":w:i:jvhV", longs, NULL);
    if (c == -1)
      break;
    switch (c) {
    case 'w':
      if (parse_seconds_arg("--watch", optarg, 0.001, 86400, &opt->watch_s))
        return -1;
      break;
    case 'i':
      if (parse_seconds_arg("--interval", optarg, 0.1, 3600, &opt->interval_s))
        return -1;
      break;
    case 'j':
      opt->json = true;
      break;
    case 'v':
      opt->verbose = true;
      break;
    case OPT_OPTIONS:
      opt->list_options = true;
      break;
    case 'h':
      usage(stdout);
      exit(EXIT_BACKEND);
    case 'V':
      printf(PROG " " RAPL_ENERGY_VERSION "\n");
      exit(EXIT_BACKEND);
    case ':':
      fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]);
      return -1;
    case '?':
      if (optopt)
        fprintf(stderr, PROG ": unknown option -%c\n", optopt);
      else
        fprintf(stderr, PROG ": unknown option %s\n", argv[optind - 1]);
      return -1;
    default: {
      const struct rapl_option *o = &rapl_options[c - OPT_TABLE];
      char name[64], err[1024];
      snprintf(name, sizeof(name), "--%s", o->flag);
      if (o->id == RAPL_OPT_CONFIG_FILE) {
        /* The plugin takes absolute paths only; on a command line, a path
         * relative to the working directory is what anyone means. */
        static char path[2 * RAPL_PATH_MAX];
        char cwd[RAPL_PATH_MAX];
        if (optarg[0] != '/' && optarg[0] != '\0' &&
            getcwd(cwd, sizeof(cwd)) != NULL)
          rapl_msg(path, sizeof(path), "%s/%s", cwd, optarg);
        else
          rapl_msg(path, sizeof(path), "%s", optarg);
        if (rapl_option_set_text(o, &opt->cfg, name, path, err, sizeof(err)) !=
            0) {
          fprintf(stderr, PROG ": %s\n", err);
          return -1;
        }
        opt->config_file = path;
        break;
      }
      unsigned before = opt->cfg.zone_mask;
      if (rapl_option_set_arg(o, &opt->cfg, name, optarg ? optarg : "true", err,
                              sizeof(err)) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return -1;
      }
      /* As Zone lines do, repeated --zone flags add up. */
      if (o->id == RAPL_OPT_ZONE) {
        if (zone_seen)
          opt->cfg.zone_mask |= before;
        zone_seen = true;
      }
      break;
    }
    }
  }
  if (optind < argc) {
    fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
    return -1;
  }
  if (opt->config_file && opt->watch_s > 0) {
    fprintf(stderr, PROG ": --config checks the file and reads no counter; "
                         "run --watch without it (the flags set the same "
                         "options)\n");
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------ --config FILE */

static void print_config(const struct rapl_config *cfg) {
  char value[RAPL_PATH_MAX];
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    if (o->id == RAPL_OPT_CONFIG_FILE)
      continue;
    rapl_option_format(o, cfg, value, sizeof(value));
    printf("  %-15s %s\n", o->collectd_key, value);
  }
}

/* The plugin's own loader and messages (rapl_config_watch_init, as its
 * config callback calls it), with nothing read and nothing dispatched. */
static int check_config(const struct options *opt) {
  struct rapl_config_watch *w = calloc(1, sizeof(*w));
  char err[RAPL_CONFIG_WATCH_ERRLEN];
  int rc;
  if (w == NULL) {
    fprintf(stderr, PROG ": out of memory\n");
    return EXIT_USAGE;
  }
  rc = rapl_config_watch_init(w, opt->config_file, &opt->cfg, err, sizeof(err));
  if (rc != 0)
    rapl_log(RAPL_LOG_ERR, "ConfigFile: %s", err);
  if (opt->json) {
    bool first = true;
    putchar('{');
    json_key(stdout, "config_file", &first);
    json_string(stdout, opt->config_file);
    json_key(stdout, "valid", &first);
    fputs(rc == 0 ? "true" : "false", stdout);
    json_key(stdout, "error", &first);
    if (rc == 0)
      fputs("null", stdout);
    else
      json_string(stdout, err);
    json_key(stdout, "config", &first);
    if (rc == 0)
      json_config(stdout, rapl_config_watch_current(w));
    else
      fputs("null", stdout);
    json_key(stdout, "messages", &first);
    json_messages(stdout);
    puts("}");
  } else if (rc == 0) {
    printf("%s: valid; with it, the plugin's configuration is:\n",
           opt->config_file);
    print_config(rapl_config_watch_current(w));
  }
  rapl_config_watch_destroy(w);
  free(w);
  return rc == 0 ? EXIT_BACKEND : EXIT_USAGE;
}

/* -------------------------------------------------- backends and zones */

/* What an operator can do about a reason a backend gave. The backends'
 * messages name the problem; this says what to change. The first needle
 * found wins, so the specific ones come first. */
static const struct {
  const char *needle;
  const char *remedy;
} remedies[] = {
    {"no powercap directory",
     "load the kernel's RAPL driver (modprobe intel_rapl_msr; AMD needs "
     "Linux 5.8 or later); in a container, mount the host's /sys and point "
     "SysfsPath (--sysfs) at it"},
    {"no RAPL zone (intel-rapl:*)",
     "the kernel's RAPL driver registered no zone: modprobe intel_rapl_msr "
     "and look for intel_rapl in dmesg; virtual machines rarely expose RAPL"},
    {"none of a kind the Zone option selects",
     "widen Zone (--zone): this machine has zones of other kinds"},
    {"no perf power PMU",
     "the kernel's RAPL perf driver (CONFIG_PERF_EVENTS_INTEL_RAPL) does not "
     "know this CPU, or a container hides /sys/bus/event_source: mount the "
     "host's /sys and point SysfsPath (--sysfs) at it"},
    {"system-wide events need",
     "grant collectd CAP_PERFMON (Linux 5.8 and later; systemd: "
     "AmbientCapabilities=CAP_PERFMON in a drop-in for collectd.service) or "
     "run it as root; do not lower kernel.perf_event_paranoid to 0 for it: "
     "that lets every user read the energy counters (PLATYPUS)"},
    {"refuses perf events",
     "allow perf_event_open in the policy that confines collectd (the "
     "SELinux perf_event class, its AppArmor profile, a systemd "
     "SystemCallFilter or a container's seccomp profile)"},
    {"permission denied",
     "run collectd (and this probe) as root, or grant CAP_DAC_READ_SEARCH; "
     "never make energy_uj readable by everyone (PLATYPUS)"},
    {"CAP_SYS_RAWIO",
     "run collectd as root, or grant it CAP_SYS_RAWIO (systemd: "
     "AmbientCapabilities=CAP_SYS_RAWIO in a drop-in for collectd.service)"},
    {"load the msr kernel module",
     "modprobe msr, and list msr in /etc/modules-load.d/ so that it is "
     "loaded at boot"},
    {"has no RAPL MSRs known",
     "the MSRs of this CPU family are unknown to the plugin: use powercap"},
    {"not supported by the MSR backend",
     "the MSR backend reads Intel, AMD and Hygon CPUs only: use powercap"},
    {"counts one core of the",
     "on AMD, core comes from the MSR backend only (MSREnabled true; read "
     "SECURITY in collectd-rapl_energy(5) first)"},
};

static const char *remedy_for(const char *why) {
  for (size_t i = 0; i < sizeof(remedies) / sizeof(remedies[0]); i++)
    if (strstr(why, remedies[i].needle) != NULL)
      return remedies[i].remedy;
  return NULL;
}

enum verdict { SELECTED, NOT_USED, REJECTED };

struct backend_report {
  const struct rapl_backend *b;
  enum verdict verdict;
  bool works; /* probe and open succeed */
  int zones;
  char why[RAPL_MSG_MAX]; /* why it cannot read, when !works */
  /* Why the plugin would not use it anyway, and what to change: from the
   * registry's order and the backends' policy data, as the reader's
   * selection applies them. Empty: none. */
  char policy[RAPL_MSG_MAX];
  char remedy[RAPL_MSG_MAX];
};

static bool option_on(const struct rapl_option *o,
                      const struct rapl_config *cfg) {
  return o != NULL && rapl_option_get_bool(o, cfg);
}

/* The backend cfg insists on (its forced_by is true), or NULL. */
static const struct rapl_backend *
forced_backend(const struct rapl_config *cfg) {
  for (size_t i = 0; rapl_backends[i] != NULL; i++)
    if (option_on(rapl_backends[i]->forced_by, cfg))
      return rapl_backends[i];
  return NULL;
}

/* Position in the order of preference. */
static size_t rank(const struct rapl_backend *b) {
  size_t i = 0;
  while (rapl_backends[i] != NULL && rapl_backends[i] != b)
    i++;
  return i;
}

/* Whether b could read here, as the reader tries it: probe, then open. */
static void try_backend(const struct rapl_config *cfg,
                        struct backend_report *r) {
  struct rapl_zone_set set = {0};
  if (r->b->probe(cfg, r->why, sizeof(r->why)) == 0) {
    int n = r->b->open(cfg, &set, r->why, sizeof(r->why));
    r->works = n > 0;
    r->zones = n > 0 ? n : 0;
    rapl_zone_set_clear(&set, r->b->close);
  }
  if (r->works)
    r->why[0] = '\0';
}

/* A backend that was not chosen: whether it reads, and which rule of the
 * selection keeps it out (another is forced, its enabled_by is false, or
 * one before it in the registry reads). */
static void judge(const struct rapl_config *cfg,
                  const struct rapl_backend *chosen, struct backend_report *r) {
  const struct rapl_backend *b = r->b;
  const struct rapl_backend *forced = forced_backend(cfg);
  try_backend(cfg, r);
  if (forced != NULL) {
    /* The forced backend itself is judged by whether it reads. */
    if (forced != b) {
      const struct rapl_option *o = forced->forced_by;
      rapl_msg(r->policy, sizeof(r->policy),
               "%s is true: the %s backend is used even where %s works",
               o->collectd_key, forced->name, b->name);
      if (r->works && chosen == NULL)
        rapl_msg(r->remedy, sizeof(r->remedy),
                 "set %s false (drop --%s): %s reads here", o->collectd_key,
                 o->flag, b->name);
    }
  } else if (b->enabled_by != NULL && !option_on(b->enabled_by, cfg)) {
    const struct rapl_option *o = b->enabled_by;
    rapl_msg(r->policy, sizeof(r->policy), "%s is false%s; true would %s",
             o->collectd_key,
             strcmp(o->default_text, "false") == 0 ? " (the default)" : "",
             o->help);
    /* Turning it on changes what the plugin reads only where nothing
     * before it in the registry reads. */
    if (r->works && (chosen == NULL || rank(chosen) > rank(b)))
      rapl_msg(r->remedy, sizeof(r->remedy), "%s (--%s)",
               b->enable_advice ? b->enable_advice : o->collectd_key, o->flag);
  } else if (chosen != NULL && rank(b) > rank(chosen)) {
    rapl_msg(r->policy, sizeof(r->policy),
             "%s reads, and %s serves only where the backends before it "
             "cannot%s%s%s",
             chosen->name, b->name, b->forced_by ? " (" : "",
             b->forced_by ? b->forced_by->collectd_key : "",
             b->forced_by ? " is false)" : "");
  }
  r->verdict = r->works && r->policy[0] ? NOT_USED : REJECTED;
  if (!r->works && remedy_for(r->why) != NULL)
    rapl_msg(r->remedy, sizeof(r->remedy), "%s", remedy_for(r->why));
}

/* "61.0352 uJ", "15.3 uJ", "1 J", "0.232831 nJ" (perf's 2^-32 J). */
static void format_joules(double j, char *out, size_t outlen) {
  if (j >= 1.0)
    snprintf(out, outlen, "%.6g J", j);
  else if (j >= 1e-3)
    snprintf(out, outlen, "%.6g mJ", j * 1e3);
  else if (j >= 1e-6)
    snprintf(out, outlen, "%.6g uJ", j * 1e6);
  else
    snprintf(out, outlen, "%.6g nJ", j * 1e9);
}

static bool bound_is_stated(const struct rapl_zone *z, double bound) {
  return z->stated_watts > 0 &&
         bound == z->stated_watts * RAPL_STATED_POWER_MARGIN;
}

static void format_bound(const struct rapl_zone *z, char *out, size_t outlen) {
  double bound = rapl_zone_plausible_watts(z);
  if (bound_is_stated(z, bound))
    snprintf(out, outlen, "%.0f W (%g x %g W stated)", bound,
             RAPL_STATED_POWER_MARGIN, z->stated_watts);
  else
    snprintf(out, outlen, "%.0f W (default)", bound);
}

/* A sysfs file, a perf event and its CPU, or the MSR device(s) and the
 * register: only the MSR backend's counters need more than the source to
 * be found. */
static void format_source(const struct rapl_backend *b,
                          const struct rapl_zone *z, char *out, size_t outlen) {
  if (b == &rapl_backend_msr && z->n_counters > 0)
    snprintf(out, outlen, "%s register 0x%llx%s", z->source,
             (unsigned long long)z->counters[0].offset,
             z->n_counters > 1 ? " (summed)" : "");
  else
    snprintf(out, outlen, "%s", z->source);
}

/* One reading of the zone's counters, as the plugin's first read takes it:
 * "ok", or why the plugin would withhold the zone. */
static void check_read(const struct rapl_backend *b, const struct rapl_zone *z,
                       char *out, size_t outlen) {
  uint64_t raw[256];
  if (z->n_counters > sizeof(raw) / sizeof(raw[0])) {
    snprintf(out, outlen, "not checked");
    return;
  }
  int rc = b->read(z, raw);
  if (rc == 0) {
    for (size_t i = 0; i < z->n_counters; i++)
      if (raw[i] > z->range) {
        snprintf(out, outlen, "above range");
        return;
      }
    snprintf(out, outlen, "ok");
  } else if (rc == -EBADMSG) {
    snprintf(out, outlen, "not a value");
  } else {
    snprintf(out, outlen, "%s", strerror(-rc));
  }
}

static double wrap_seconds(const struct rapl_zone *z) {
  return (double)z->range * z->joules_per_unit / rapl_zone_plausible_watts(z);
}

static void print_text_report(const struct options *opt,
                              const struct rapl_backend *chosen,
                              const char *why, const struct rapl_zone_set *set,
                              const struct backend_report *reports,
                              size_t n_reports) {
  printf(PROG " " RAPL_ENERGY_VERSION
              ": what the rapl_energy plugin would read here\n");
  printf("configuration:\n");
  print_config(&opt->cfg);
  printf("\n");
  if (chosen)
    printf("backend: %s, %zu zone(s)\n", chosen->name, set->n);
  else
    printf("backend: none: %s\n", why);
  for (size_t i = 0; i < n_reports; i++) {
    const struct backend_report *r = &reports[i];
    const char *indent = "            ";
    if (r->verdict == SELECTED) {
      printf("  %-9s selected: reads %d zone(s)\n", r->b->name, r->zones);
      continue;
    }
    printf("  %-9s %s: %s\n", r->b->name,
           r->verdict == NOT_USED ? "not used" : "rejected",
           r->policy[0] ? r->policy : r->why);
    if (r->policy[0] && r->works)
      printf("%sit would read %d zone(s)\n", indent, r->zones);
    else if (r->policy[0])
      printf("%sit could not read either: %s\n", indent, r->why);
    if (r->remedy[0])
      printf("%sremedy: %s\n", indent, r->remedy);
  }
  if (chosen == NULL)
    return;
  printf("\n%-16s %-8s %-11s %-13s %-27s %-11s %s\n", "SOCKET", "ZONE", "UNIT",
         "RANGE", "BOUND", "READ", "SOURCE");
  double shortest = INFINITY;
  for (size_t i = 0; i < set->n; i++) {
    const struct rapl_zone *z = &set->zones[i];
    char unit[32], range[32], bound[64], read[64], source[RAPL_PATH_MAX + 64];
    format_joules(z->joules_per_unit, unit, sizeof(unit));
    check_read(chosen, z, read, sizeof(read));
    format_joules((double)z->range * z->joules_per_unit, range, sizeof(range));
    format_bound(z, bound, sizeof(bound));
    format_source(chosen, z, source, sizeof(source));
    printf("%-16s %-8s %-11s %-13s %-27s %-11s %s\n", z->instance,
           rapl_zone_kind_name(z->kind), unit, range, bound, read, source);
    if (wrap_seconds(z) < shortest)
      shortest = wrap_seconds(z);
  }
  printf("\nA step that implies more than BOUND is a counter reset, not "
         "energy; to tell\nwraps apart, the plugin must read at least every "
         "%.0f s (RANGE / BOUND, the\nshortest of these zones): keep "
         "collectd's Interval well below it.\n",
         shortest);
}

static void json_report(const struct options *opt,
                        const struct rapl_backend *chosen, const char *why,
                        const struct rapl_zone_set *set,
                        const struct backend_report *reports,
                        size_t n_reports) {
  bool first = true;
  json_key(stdout, "version", &first);
  json_string(stdout, RAPL_ENERGY_VERSION);
  json_key(stdout, "config", &first);
  json_config(stdout, &opt->cfg);
  json_key(stdout, "backend", &first);
  if (chosen)
    json_string(stdout, chosen->name);
  else
    fputs("null", stdout);
  json_key(stdout, "why", &first);
  if (chosen)
    fputs("null", stdout);
  else
    json_string(stdout, why);
  json_key(stdout, "backends", &first);
  fputc('[', stdout);
  for (size_t i = 0; i < n_reports; i++) {
    const struct backend_report *r = &reports[i];
    static const char *const verdicts[] = {"selected", "not used", "rejected"};
    bool f = true;
    fputs(i ? ",{" : "{", stdout);
    json_key(stdout, "name", &f);
    json_string(stdout, r->b->name);
    json_key(stdout, "verdict", &f);
    json_string(stdout, verdicts[r->verdict]);
    json_key(stdout, "works", &f);
    fputs(r->works ? "true" : "false", stdout);
    json_key(stdout, "zones", &f);
    fprintf(stdout, "%d", r->zones);
    /* The policy data the selection applies, so that a script need not
     * know which option governs which backend. */
    const struct rapl_backend *b = r->b;
    json_key(stdout, "enabled_by", &f);
    if (b->enabled_by)
      json_string(stdout, b->enabled_by->collectd_key);
    else
      fputs("null", stdout);
    json_key(stdout, "enabled", &f);
    fputs(b->enabled_by == NULL || option_on(b->enabled_by, &opt->cfg)
              ? "true"
              : "false",
          stdout);
    json_key(stdout, "forced_by", &f);
    if (b->forced_by)
      json_string(stdout, b->forced_by->collectd_key);
    else
      fputs("null", stdout);
    json_key(stdout, "min_interval_s", &f);
    if (b->min_interval)
      json_number(stdout, rapl_option_get_seconds(b->min_interval, &opt->cfg));
    else
      fputs("null", stdout);
    const char *fields[][2] = {
        {"reason", r->works ? NULL : r->why},
        {"policy", r->policy[0] ? r->policy : NULL},
        {"remedy", r->remedy[0] ? r->remedy : NULL},
    };
    for (size_t k = 0; k < 3; k++) {
      json_key(stdout, fields[k][0], &f);
      if (fields[k][1])
        json_string(stdout, fields[k][1]);
      else
        fputs("null", stdout);
    }
    fputc('}', stdout);
  }
  fputc(']', stdout);
  json_key(stdout, "zones", &first);
  fputc('[', stdout);
  for (size_t i = 0; chosen && i < set->n; i++) {
    const struct rapl_zone *z = &set->zones[i];
    char source[RAPL_PATH_MAX + 64];
    double bound = rapl_zone_plausible_watts(z);
    bool f = true;
    format_source(chosen, z, source, sizeof(source));
    fputs(i ? ",{" : "{", stdout);
    json_key(stdout, "socket", &f);
    json_string(stdout, z->instance);
    json_key(stdout, "zone", &f);
    json_string(stdout, rapl_zone_kind_name(z->kind));
    json_key(stdout, "source", &f);
    json_string(stdout, source);
    json_key(stdout, "counters", &f);
    fprintf(stdout, "%zu", z->n_counters);
    json_key(stdout, "unit_j", &f);
    json_number(stdout, z->joules_per_unit);
    json_key(stdout, "range_units", &f);
    fprintf(stdout, "%llu", (unsigned long long)z->range);
    json_key(stdout, "range_j", &f);
    json_number(stdout, (double)z->range * z->joules_per_unit);
    json_key(stdout, "stated_w", &f);
    json_number(stdout, z->stated_watts);
    json_key(stdout, "bound_w", &f);
    json_number(stdout, bound);
    json_key(stdout, "bound_from", &f);
    json_string(stdout, bound_is_stated(z, bound) ? "stated" : "default");
    json_key(stdout, "max_read_gap_s", &f);
    json_number(stdout, wrap_seconds(z));
    char read[64];
    check_read(chosen, z, read, sizeof(read));
    json_key(stdout, "read", &f);
    json_string(stdout, read);
    fputc('}', stdout);
  }
  fputc(']', stdout);
}

/* ----------------------------------------------------------- live watts */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

struct reading {
  char instance[RAPL_INSTANCE_MAX];
  enum rapl_zone_kind kind;
  double energy_j;
  double power_w;
  bool has_power;
};

struct batch {
  struct reading *v;
  size_t n, cap;
};

static void collect(const struct rapl_sample *s, void *ud) {
  struct batch *b = ud;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16;
    struct reading *v = realloc(b->v, cap * sizeof(*v));
    if (v == NULL)
      return;
    b->v = v;
    b->cap = cap;
  }
  struct reading *r = &b->v[b->n++];
  snprintf(r->instance, sizeof(r->instance), "%s", s->instance);
  r->kind = s->kind;
  r->energy_j = s->energy_j;
  r->power_w = s->power_w;
  r->has_power = s->has_power;
}

static void add_seconds(struct timespec *t, double s) {
  long long ns = t->tv_nsec + (long long)llround(s * 1e9);
  t->tv_sec += (time_t)(ns / 1000000000);
  t->tv_nsec = (long)(ns % 1000000000);
}

static void print_batch(const struct batch *b, double t,
                        const struct rapl_backend *backend) {
  printf("\n%.1f s, %s\n%-16s %-8s %10s %14s\n", t,
         backend ? backend->name : "no backend", "SOCKET", "ZONE", "WATTS",
         "JOULES");
  for (size_t i = 0; i < b->n; i++) {
    const struct reading *r = &b->v[i];
    char watts[32];
    if (r->has_power)
      snprintf(watts, sizeof(watts), "%.2f", r->power_w);
    else
      snprintf(watts, sizeof(watts), "-");
    printf("%-16s %-8s %10s %14.3f\n", r->instance,
           rapl_zone_kind_name(r->kind), watts, r->energy_j);
  }
  if (b->n == 0)
    printf("(no zone could be read)\n");
  fflush(stdout);
}

static void json_batch(const struct batch *b, double t,
                       const struct rapl_backend *backend, bool first_batch) {
  bool f = true;
  fputs(first_batch ? "{" : ",{", stdout);
  json_key(stdout, "t", &f);
  json_number(stdout, t);
  json_key(stdout, "backend", &f);
  if (backend)
    json_string(stdout, backend->name);
  else
    fputs("null", stdout);
  json_key(stdout, "zones", &f);
  fputc('[', stdout);
  for (size_t i = 0; i < b->n; i++) {
    const struct reading *r = &b->v[i];
    bool g = true;
    fputs(i ? ",{" : "{", stdout);
    json_key(stdout, "socket", &g);
    json_string(stdout, r->instance);
    json_key(stdout, "zone", &g);
    json_string(stdout, rapl_zone_kind_name(r->kind));
    json_key(stdout, "watts", &g);
    if (r->has_power)
      json_number(stdout, r->power_w);
    else
      fputs("null", stdout);
    json_key(stdout, "energy_j", &g);
    json_number(stdout, r->energy_j);
    fputc('}', stdout);
  }
  fputs("]}", stdout);
}

/* Reads through the plugin's reader on the real clock: the first read is the
 * baseline, each later one gives every zone's average power since the one
 * before, as collectd would receive it. */
static void watch(const struct options *opt) {
  struct rapl_reader *reader = rapl_reader_create(&opt->cfg);
  struct batch batch = {0};
  struct timespec next;
  struct sigaction sa;
  if (reader == NULL) {
    fprintf(stderr, PROG ": out of memory\n");
    return;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  long reads = (long)ceil(opt->watch_s / opt->interval_s - 1e-9);
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (long i = 0; i <= reads && !interrupted; i++) {
    batch.n = 0;
    rapl_reader_read(reader, collect, &batch);
    /* The reader holds reads of a backend with a minimum interval back as
     * the plugin does; say so rather than show empty tables. */
    const struct rapl_backend *rb = rapl_reader_backend(reader);
    double min_s = rb != NULL && rb->min_interval != NULL
                       ? rapl_option_get_seconds(rb->min_interval, &opt->cfg)
                       : 0;
    if (i == 0 && opt->interval_s < min_s * (1 - RAPL_EARLY_SLACK))
      fprintf(stderr,
              PROG ": the %s backend is read at most every %g s (%s, --%s): "
                   "readings in between show no zone\n",
              rb->name, min_s, rb->min_interval->collectd_key,
              rb->min_interval->flag);
    if (i > 0) {
      double t = (double)i * opt->interval_s;
      if (opt->json)
        json_batch(&batch, t, rapl_reader_backend(reader), i == 1);
      else
        print_batch(&batch, t, rapl_reader_backend(reader));
    }
    if (i == reads)
      break;
    add_seconds(&next, opt->interval_s);
    while (!interrupted && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
                                           &next, NULL) == EINTR)
      ;
  }
  free(batch.v);
  rapl_reader_destroy(reader);
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv) {
  struct options opt;
  memset(&opt, 0, sizeof(opt));
  rapl_log_set_sink(log_sink, NULL);
  if (parse_args(argc, argv, &opt) != 0) {
    fprintf(stderr, "Try '" PROG " --help'.\n");
    return EXIT_USAGE;
  }
  if (opt.verbose)
    messages.shown_level = RAPL_LOG_DEBUG;
  if (opt.list_options) {
    list_options(opt.json);
    return EXIT_BACKEND;
  }
  if (opt.config_file != NULL)
    return check_config(&opt);

  char err[1024];
  if (rapl_config_check(&opt.cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, PROG ": %s\n", err);
    return EXIT_USAGE;
  }

  struct rapl_zone_set set = {0};
  char why[RAPL_MSG_MAX] = "";
  const struct rapl_backend *chosen =
      rapl_select_backend(&opt.cfg, &set, why, sizeof(why));
  struct backend_report reports[8];
  size_t n_reports = 0;
  for (size_t i = 0; rapl_backends[i] != NULL && n_reports < 8; i++) {
    struct backend_report *r = &reports[n_reports++];
    memset(r, 0, sizeof(*r));
    r->b = rapl_backends[i];
    if (r->b == chosen) {
      r->verdict = SELECTED;
      r->works = true;
      r->zones = (int)set.n;
    } else {
      judge(&opt.cfg, chosen, r);
    }
  }

  if (opt.json) {
    putchar('{');
    json_report(&opt, chosen, why, &set, reports, n_reports);
  } else {
    print_text_report(&opt, chosen, why, &set, reports, n_reports);
  }
  if (chosen != NULL)
    rapl_zone_set_clear(&set, chosen->close);
  if (chosen != NULL && opt.watch_s > 0) {
    if (opt.json)
      fputs(",\"samples\":[", stdout);
    else
      printf("\nlive watts every %g s for %g s (Ctrl-C stops):\n",
             opt.interval_s, opt.watch_s);
    fflush(stdout);
    watch(&opt);
    if (opt.json)
      fputc(']', stdout);
  }
  if (opt.json) {
    fputs(",\"messages\":", stdout);
    json_messages(stdout);
    puts("}");
  }
  free(messages.v);
  return chosen != NULL ? EXIT_BACKEND : EXIT_NONE;
}
