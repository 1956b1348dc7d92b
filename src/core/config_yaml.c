#include "config_yaml.h"

#include "sysfs_file.h"

#include "zone_kind.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

enum field {
  F_SYSFS,
  F_PROCFS,
  F_ZONES,
  F_MSR_ENABLED,
  F_MSR_FORCE,
  F_MSR_DEVICE_PATH,
  F_MSR_MIN_INTERVAL,
  F_REPORT_POWER,
  F_REPORT_ENERGY,
  F_COUNT
};

enum value_type { T_PATH, T_BOOL, T_ZONES, T_TEMPLATE, T_SECONDS };

struct key_def {
  const char *key;
  enum field field;
  enum value_type type;
};

struct section_def {
  const char *name;
  const struct key_def *keys;
  size_t nkeys;
  const char *accepted; /* for messages */
  bool plugin;          /* rapl_energy: wins over the Kepler sections */
};

static const struct key_def host_keys[] = {
    {"sysfs", F_SYSFS, T_PATH},
    {"procfs", F_PROCFS, T_PATH},
};
static const struct key_def rapl_keys[] = {
    {"zones", F_ZONES, T_ZONES},
};
static const struct key_def msr_keys[] = {
    {"enabled", F_MSR_ENABLED, T_BOOL},
    {"force", F_MSR_FORCE, T_BOOL},
    {"devicePath", F_MSR_DEVICE_PATH, T_TEMPLATE},
};
static const struct key_def plugin_keys[] = {
    {"sysfsPath", F_SYSFS, T_PATH},
    {"procfsPath", F_PROCFS, T_PATH},
    {"zones", F_ZONES, T_ZONES},
    {"msrEnabled", F_MSR_ENABLED, T_BOOL},
    {"msrForce", F_MSR_FORCE, T_BOOL},
    {"msrDevicePath", F_MSR_DEVICE_PATH, T_TEMPLATE},
    {"msrMinInterval", F_MSR_MIN_INTERVAL, T_SECONDS},
    {"reportPower", F_REPORT_POWER, T_BOOL},
    {"reportEnergy", F_REPORT_ENERGY, T_BOOL},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct section_def sections[] = {
    {"host", host_keys, N_ELEMS(host_keys), "sysfs, procfs", false},
    {"rapl", rapl_keys, N_ELEMS(rapl_keys), "zones", false},
    {"msr", msr_keys, N_ELEMS(msr_keys), "enabled, force, devicePath", false},
    {"rapl_energy", plugin_keys, N_ELEMS(plugin_keys),
     "sysfsPath, procfsPath, zones, msrEnabled, msrForce, msrDevicePath, "
     "msrMinInterval, reportPower, reportEnergy",
     true},
};

struct ctx {
  yaml_parser_t parser;
  yaml_event_t ev;
  bool have_ev;
  int depth;
  const char *name;
  const unsigned char *buf;
  size_t len;
  struct rapl_config cfg; /* the working copy, committed on success */
  unsigned plugin_set;    /* fields set in rapl_energy: */
  char path[192];         /* the key being read, for messages */
  /* False for a file that others could have written: the MSR switches it
   * sets are noted in `withheld` instead of applied. */
  bool msr_allowed;
  struct withheld {
    bool set;
    bool value;
    char key[192];
    yaml_mark_t mark;
  } withheld[2]; /* msr enabled, msr force */
  char *err;
  size_t errlen;
};

/* ------------------------------------------------------------ messages */

/* Quotes `s` (`n` bytes) for a message: see rapl_config_quote. */
static void quote_value(const char *s, size_t n, char *out, size_t outlen) {
  rapl_config_quote(s, n, 64, out, outlen);
}

static bool is_null_word(const char *v) {
  return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
         strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static bool parse_bool_word(const char *v, bool *out) {
  static const char *const yes[] = {"true", "yes", "on"};
  static const char *const no[] = {"false", "no", "off"};
  for (size_t i = 0; i < N_ELEMS(yes); i++) {
    if (strcasecmp(v, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(v, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

/* [-+]? (digits [. digits?] | . digits) ([eE] [-+]? digits)? */
static bool is_decimal_number(const char *v) {
  const char *p = v;
  bool digits = false;
  if (*p == '-' || *p == '+')
    p++;
  while (*p >= '0' && *p <= '9') {
    p++;
    digits = true;
  }
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      p++;
      digits = true;
    }
  }
  if (!digits)
    return false;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '-' || *p == '+')
      p++;
    if (!(*p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  return *p == '\0';
}

static bool scalar_is_plain(const yaml_event_t *ev) {
  return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         ev->data.scalar.tag == NULL;
}

static bool scalar_is_null(const yaml_event_t *ev) {
  return scalar_is_plain(ev) &&
         is_null_word((const char *)ev->data.scalar.value);
}

/* What the event is, for "found ..." in messages. */
static void describe_event(const yaml_event_t *ev, char *out, size_t outlen) {
  char q[128];
  bool b;
  switch (ev->type) {
  case YAML_SCALAR_EVENT: {
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (scalar_is_plain(ev) && v[0] == '\0') {
      snprintf(out, outlen, "an empty value");
    } else if (scalar_is_null(ev)) {
      snprintf(out, outlen, "null");
    } else if (scalar_is_plain(ev) && strlen(v) == n &&
               parse_bool_word(v, &b)) {
      quote_value(v, n, q, sizeof(q));
      snprintf(out, outlen, "the boolean %s", q);
    } else if (scalar_is_plain(ev) && strlen(v) == n && is_decimal_number(v)) {
      quote_value(v, n, q, sizeof(q));
      snprintf(out, outlen, "the number %s", q);
    } else {
      quote_value(v, n, q, sizeof(q));
      snprintf(out, outlen, "the string %s", q);
    }
    break;
  }
  case YAML_ALIAS_EVENT: {
    const char *a = (const char *)ev->data.alias.anchor;
    quote_value(a, strlen(a), q, sizeof(q));
    snprintf(out, outlen, "an alias to the anchor %s", q);
    break;
  }
  case YAML_SEQUENCE_START_EVENT:
    snprintf(out, outlen, "a list");
    break;
  case YAML_MAPPING_START_EVENT:
    snprintf(out, outlen, "a mapping");
    break;
  case YAML_DOCUMENT_START_EVENT:
    snprintf(out, outlen, "a second document");
    break;
  default:
    snprintf(out, outlen, "the end of the file");
    break;
  }
}

/* "<name>[:line:col]: [<key>: ]<message>"; the message's format is always a
 * literal of this file, values from the YAML file only ever go through %s. */
static int fail_at(struct ctx *c, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(struct ctx *c, const yaml_mark_t *mark, const char *fmt,
                   ...) {
  char msg[768];
  char where[48] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (mark != NULL)
    snprintf(where, sizeof(where), ":%zu:%zu", mark->line + 1,
             mark->column + 1);
  if (c->path[0] != '\0')
    snprintf(c->err, c->errlen, "%s%s: %s: %s", c->name, where, c->path, msg);
  else
    snprintf(c->err, c->errlen, "%s%s: %s", c->name, where, msg);
  return -1;
}

/* rapl_config's setters name the collectd option ("Zone: ...",
 * "MSRDevicePath: ..."); here the YAML key is named instead. */
static int fail_setter(struct ctx *c, const yaml_mark_t *mark,
                       const char *prefix, const char *msg) {
  size_t n = strlen(prefix);
  if (strncmp(msg, prefix, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
    msg += n + 2;
  return fail_at(c, mark, "%s", msg);
}

static int fail_found_hint(struct ctx *c, const char *expected,
                           const char *hint) {
  char found[192];
  describe_event(&c->ev, found, sizeof(found));
  return fail_at(c, &c->ev.start_mark, "expected %s, found %s%s", expected,
                 found, hint);
}

static int fail_found(struct ctx *c, const char *expected) {
  return fail_found_hint(c, expected, "");
}

static int fail_parser(struct ctx *c) {
  yaml_parser_t *p = &c->parser;
  const char *problem = p->problem ? p->problem : "unknown problem";
  switch (p->error) {
  case YAML_MEMORY_ERROR:
    return fail_at(c, NULL, "out of memory while parsing");
  case YAML_READER_ERROR: {
    /* The reader gives a byte offset, not a mark. */
    yaml_mark_t m = {0, 0, 0};
    size_t end = p->problem_offset < c->len ? p->problem_offset : c->len;
    for (size_t i = 0; i < end; i++) {
      if (c->buf[i] == '\n') {
        m.line++;
        m.column = 0;
      } else {
        m.column++;
      }
    }
    if (p->problem_value != -1)
      return fail_at(c, &m, "invalid YAML input: %s (#%X)", problem,
                     (unsigned)p->problem_value);
    return fail_at(c, &m, "invalid YAML input: %s", problem);
  }
  case YAML_SCANNER_ERROR:
  case YAML_PARSER_ERROR:
    if (p->context != NULL)
      return fail_at(c, &p->problem_mark,
                     "YAML syntax error: %s (%s at line %zu, column %zu)",
                     problem, p->context, p->context_mark.line + 1,
                     p->context_mark.column + 1);
    return fail_at(c, &p->problem_mark, "YAML syntax error: %s", problem);
  default:
    return fail_at(c, NULL, "YAML error: %s", problem);
  }
}

/* -------------------------------------------------------------- events */

static int next(struct ctx *c) {
  if (c->have_ev) {
    yaml_event_delete(&c->ev);
    c->have_ev = false;
  }
  if (!yaml_parser_parse(&c->parser, &c->ev))
    return fail_parser(c);
  c->have_ev = true;
  switch (c->ev.type) {
  case YAML_MAPPING_START_EVENT:
  case YAML_SEQUENCE_START_EVENT:
    if (++c->depth > RAPL_YAML_MAX_DEPTH)
      return fail_at(c, &c->ev.start_mark,
                     "nesting deeper than %d levels is not accepted",
                     RAPL_YAML_MAX_DEPTH);
    break;
  case YAML_MAPPING_END_EVENT:
  case YAML_SEQUENCE_END_EVENT:
    c->depth--;
    break;
  default:
    break;
  }
  return 0;
}

/* Skips the node that starts with the current event, whatever its shape.
 * Aliases are not followed: an alias is one event. */
static int skip_node(struct ctx *c) {
  if (c->ev.type != YAML_MAPPING_START_EVENT &&
      c->ev.type != YAML_SEQUENCE_START_EVENT)
    return 0;
  int target = c->depth - 1;
  while (c->depth > target) {
    if (next(c) != 0)
      return -1;
  }
  return 0;
}

static bool scalar_equals(const yaml_event_t *ev, const char *s) {
  size_t n = strlen(s);
  return ev->data.scalar.length == n &&
         memcmp(ev->data.scalar.value, s, n) == 0;
}

static bool scalar_equals_nocase(const yaml_event_t *ev, const char *s) {
  size_t n = strlen(s);
  return ev->data.scalar.length == n &&
         strncasecmp((const char *)ev->data.scalar.value, s, n) == 0;
}

static const char *event_tag(const yaml_event_t *ev) {
  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    return (const char *)ev->data.scalar.tag;
  case YAML_SEQUENCE_START_EVENT:
    return (const char *)ev->data.sequence_start.tag;
  case YAML_MAPPING_START_EVENT:
    return (const char *)ev->data.mapping_start.tag;
  default:
    return NULL;
  }
}

/* Aliases and explicit tags are refused in the sections this plugin reads:
 * the first could smuggle shared (and, expanded, unbounded) data in, the
 * second would change how a value is typed. */
static int refuse_alias_and_tag(struct ctx *c) {
  char q[128];
  if (c->ev.type == YAML_ALIAS_EVENT) {
    const char *a = (const char *)c->ev.data.alias.anchor;
    quote_value(a, strlen(a), q, sizeof(q));
    return fail_at(c, &c->ev.start_mark,
                   "aliases are not supported, found an alias to the anchor "
                   "%s",
                   q);
  }
  const char *tag = event_tag(&c->ev);
  if (tag != NULL) {
    quote_value(tag, strlen(tag), q, sizeof(q));
    return fail_at(c, &c->ev.start_mark,
                   "explicit tags are not supported, found the tag %s", q);
  }
  return 0;
}

/* A scalar that will be used as a string: no NUL byte, no control
 * character (they would end up in paths and log lines). */
static int check_text(struct ctx *c, const char *expected) {
  const char *v = (const char *)c->ev.data.scalar.value;
  size_t n = c->ev.data.scalar.length;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)v[i];
    if (ch < 0x20 || ch == 0x7f) {
      char q[128];
      quote_value(v, n, q, sizeof(q));
      return fail_at(c, &c->ev.start_mark,
                     "expected %s, found the string %s which contains a "
                     "control character",
                     expected, q);
    }
  }
  return 0;
}

/* -------------------------------------------------------------- values */

static bool may_store(struct ctx *c, const struct section_def *s,
                      enum field f) {
  if (s->plugin) {
    c->plugin_set |= 1u << f;
    return true;
  }
  return (c->plugin_set & (1u << f)) == 0;
}

static int parse_bool(struct ctx *c, bool *out) {
  bool b;
  if (c->ev.type != YAML_SCALAR_EVENT || !scalar_is_plain(&c->ev) ||
      strlen((const char *)c->ev.data.scalar.value) !=
          c->ev.data.scalar.length ||
      !parse_bool_word((const char *)c->ev.data.scalar.value, &b))
    return fail_found_hint(c, "a boolean",
                           " (write true/false, yes/no or on/off, unquoted)");
  *out = b;
  return 0;
}

static int parse_text(struct ctx *c, const char *expected) {
  if (c->ev.type != YAML_SCALAR_EVENT || scalar_is_null(&c->ev))
    return fail_found(c, expected);
  return check_text(c, expected);
}

static int parse_path(struct ctx *c, char *dst) {
  char msg[768];
  char tmp[RAPL_PATH_MAX];
  if (parse_text(c, "an absolute path") != 0)
    return -1;
  if (rapl_config_set_path(tmp, "path", (const char *)c->ev.data.scalar.value,
                           msg, sizeof(msg)) != 0)
    return fail_setter(c, &c->ev.start_mark, "path", msg);
  if (dst != NULL)
    strcpy(dst, tmp);
  return 0;
}

static int parse_template(struct ctx *c, bool store) {
  char msg[768];
  const char *v;
  if (parse_text(c, "a device path template such as /dev/cpu/%d/msr") != 0)
    return -1;
  v = (const char *)c->ev.data.scalar.value;
  if (!rapl_msr_template_valid(v, msg, sizeof(msg)))
    return fail_setter(c, &c->ev.start_mark, "MSRDevicePath", msg);
  if (store &&
      rapl_config_set_msr_device_path(&c->cfg, v, msg, sizeof(msg)) != 0)
    return fail_setter(c, &c->ev.start_mark, "MSRDevicePath", msg);
  return 0;
}

static int parse_seconds(struct ctx *c, bool store) {
  static const char expected[] = "a number of seconds";
  static const char hint[] = " (write a plain number such as 1 or 0.5)";
  struct rapl_config scratch;
  char msg[768];
  const char *v;
  if (c->ev.type != YAML_SCALAR_EVENT || !scalar_is_plain(&c->ev))
    return fail_found_hint(c, expected, hint);
  v = (const char *)c->ev.data.scalar.value;
  if (strlen(v) != c->ev.data.scalar.length || !is_decimal_number(v))
    return fail_found_hint(c, expected, hint);
  double seconds = strtod(v, NULL);
  if (rapl_config_set_msr_min_interval(&scratch, seconds, msg, sizeof(msg)) !=
      0)
    return fail_setter(c, &c->ev.start_mark, "MSRMinInterval", msg);
  if (store)
    c->cfg.msr_min_interval = scratch.msr_min_interval;
  return 0;
}

/* A list of zone names; an empty list (or null) means every zone, as in
 * Kepler's rapl.zones. */
static int parse_zones(struct ctx *c, const struct section_def *s,
                       const struct key_def *k, bool store) {
  static const char expected[] =
      "a list of zone names (package, core, uncore, dram, psys)";
  struct rapl_config scratch;
  char msg[768];
  unsigned mask = 0;
  if (c->ev.type == YAML_SCALAR_EVENT && scalar_is_null(&c->ev)) {
    mask = RAPL_ZONE_MASK_ALL;
  } else if (c->ev.type != YAML_SEQUENCE_START_EVENT) {
    return fail_found(c, expected);
  } else {
    for (size_t i = 0;; i++) {
      if (next(c) != 0)
        return -1;
      if (c->ev.type == YAML_SEQUENCE_END_EVENT)
        break;
      snprintf(c->path, sizeof(c->path), "%s.%s[%zu]", s->name, k->key, i);
      if (refuse_alias_and_tag(c) != 0)
        return -1;
      if (parse_text(c, "a zone name (package, core, uncore, dram or psys)") !=
          0)
        return -1;
      const char *name = (const char *)c->ev.data.scalar.value;
      if (rapl_config_set_zones(&scratch, &name, 1, msg, sizeof(msg)) != 0)
        return fail_setter(c, &c->ev.start_mark, "Zone", msg);
      mask |= scratch.zone_mask;
      snprintf(c->path, sizeof(c->path), "%s.%s", s->name, k->key);
    }
    snprintf(c->path, sizeof(c->path), "%s.%s", s->name, k->key);
    if (mask == 0)
      mask = RAPL_ZONE_MASK_ALL;
  }
  if (store)
    c->cfg.zone_mask = mask;
  return 0;
}

static int parse_value(struct ctx *c, const struct section_def *s,
                       const struct key_def *k) {
  bool store = may_store(c, s, k->field);
  bool b = false;
  if (refuse_alias_and_tag(c) != 0)
    return -1;
  switch (k->type) {
  case T_BOOL:
    if (parse_bool(c, &b) != 0)
      return -1;
    if (store && !c->msr_allowed &&
        (k->field == F_MSR_ENABLED || k->field == F_MSR_FORCE)) {
      struct withheld *h = &c->withheld[k->field == F_MSR_FORCE];
      h->set = true;
      h->value = b;
      snprintf(h->key, sizeof(h->key), "%s", c->path);
      h->mark = c->ev.start_mark;
      return 0;
    }
    if (store) {
      switch (k->field) {
      case F_MSR_ENABLED:
        c->cfg.msr_enabled = b;
        break;
      case F_MSR_FORCE:
        c->cfg.msr_force = b;
        break;
      case F_REPORT_POWER:
        c->cfg.report_power = b;
        break;
      case F_REPORT_ENERGY:
        c->cfg.report_energy = b;
        break;
      default:
        break;
      }
    }
    return 0;
  case T_PATH: {
    char *dst = NULL;
    if (store)
      dst = k->field == F_SYSFS ? c->cfg.sysfs_path : c->cfg.procfs_path;
    return parse_path(c, dst);
  }
  case T_TEMPLATE:
    return parse_template(c, store);
  case T_SECONDS:
    return parse_seconds(c, store);
  case T_ZONES:
    return parse_zones(c, s, k, store);
  }
  return -1;
}

/* ------------------------------------------------------------ sections */

static const struct key_def *find_key(const struct section_def *s,
                                      const yaml_event_t *ev) {
  for (size_t i = 0; i < s->nkeys; i++)
    if (scalar_equals(ev, s->keys[i].key))
      return &s->keys[i];
  return NULL;
}

static int unknown_key(struct ctx *c, const struct section_def *s) {
  char q[128];
  const char *v = (const char *)c->ev.data.scalar.value;
  size_t n = c->ev.data.scalar.length;
  quote_value(v, n, q, sizeof(q));
  snprintf(c->path, sizeof(c->path), "%s", s->name);
  for (size_t i = 0; i < s->nkeys; i++) {
    if (scalar_equals_nocase(&c->ev, s->keys[i].key))
      return fail_at(c, &c->ev.start_mark,
                     "unknown key %s (keys are case-sensitive: did you mean "
                     "\"%s\"?)",
                     q, s->keys[i].key);
  }
  return fail_at(c, &c->ev.start_mark, "unknown key %s (%s accepts %s)", q,
                 s->name, s->accepted);
}

static int parse_section(struct ctx *c, const struct section_def *s) {
  yaml_mark_t first[F_COUNT];
  unsigned seen = 0;
  if (c->ev.type == YAML_SCALAR_EVENT && scalar_is_null(&c->ev))
    return 0; /* "host:" alone: nothing set */
  if (refuse_alias_and_tag(c) != 0)
    return -1;
  if (c->ev.type != YAML_MAPPING_START_EVENT) {
    char expected[96];
    snprintf(expected, sizeof(expected), "a mapping of %s settings", s->name);
    return fail_found(c, expected);
  }
  for (;;) {
    if (next(c) != 0)
      return -1;
    if (c->ev.type == YAML_MAPPING_END_EVENT)
      return 0;
    if (c->ev.type != YAML_SCALAR_EVENT)
      return fail_found(c, "a key");
    const struct key_def *k = find_key(s, &c->ev);
    if (k == NULL)
      return unknown_key(c, s);
    snprintf(c->path, sizeof(c->path), "%s.%s", s->name, k->key);
    if (seen & (1u << k->field))
      return fail_at(c, &c->ev.start_mark,
                     "duplicate key (first at line %zu, column %zu)",
                     first[k->field].line + 1, first[k->field].column + 1);
    seen |= 1u << k->field;
    first[k->field] = c->ev.start_mark;
    if (next(c) != 0)
      return -1;
    if (parse_value(c, s, k) != 0)
      return -1;
    snprintf(c->path, sizeof(c->path), "%s", s->name);
  }
}

static int parse_top_mapping(struct ctx *c) {
  yaml_mark_t first[N_ELEMS(sections)];
  unsigned seen = 0;
  for (;;) {
    if (next(c) != 0)
      return -1;
    if (c->ev.type == YAML_MAPPING_END_EVENT)
      return 0;
    if (c->ev.type != YAML_SCALAR_EVENT)
      return fail_found(c, "a section name");
    const struct section_def *s = NULL;
    size_t idx = 0;
    for (; idx < N_ELEMS(sections); idx++) {
      if (scalar_equals(&c->ev, sections[idx].name)) {
        s = &sections[idx];
        break;
      }
    }
    if (s == NULL) {
      for (size_t i = 0; i < N_ELEMS(sections); i++) {
        if (scalar_equals_nocase(&c->ev, sections[i].name)) {
          char q[128];
          quote_value((const char *)c->ev.data.scalar.value,
                      c->ev.data.scalar.length, q, sizeof(q));
          return fail_at(c, &c->ev.start_mark,
                         "unknown section %s (section names are "
                         "case-sensitive: did you mean \"%s\"?)",
                         q, sections[i].name);
        }
      }
      /* Kepler's own sections (log, web, exporter, ...) and anything
       * else: skipped whatever their shape. */
      if (next(c) != 0 || skip_node(c) != 0)
        return -1;
      continue;
    }
    snprintf(c->path, sizeof(c->path), "%s", s->name);
    if (seen & (1u << idx))
      return fail_at(c, &c->ev.start_mark,
                     "duplicate section (first at line %zu, column %zu)",
                     first[idx].line + 1, first[idx].column + 1);
    seen |= 1u << idx;
    first[idx] = c->ev.start_mark;
    if (next(c) != 0 || parse_section(c, s) != 0)
      return -1;
    c->path[0] = '\0';
  }
}

static int parse_stream(struct ctx *c) {
  if (next(c) != 0) /* stream start */
    return -1;
  if (next(c) != 0)
    return -1;
  if (c->ev.type == YAML_STREAM_END_EVENT)
    return fail_at(c, NULL,
                   "expected a mapping at the top level, found an empty file "
                   "(write {} for a file that sets nothing)");
  if (next(c) != 0) /* after the document start */
    return -1;
  if (c->ev.type == YAML_SCALAR_EVENT && scalar_is_null(&c->ev))
    return fail_at(c, &c->ev.start_mark,
                   "expected a mapping at the top level, found an empty "
                   "document (write {} for a file that sets nothing)");
  if (c->ev.type != YAML_MAPPING_START_EVENT)
    return fail_found(c, "a mapping at the top level");
  if (refuse_alias_and_tag(c) != 0 || parse_top_mapping(c) != 0)
    return -1;
  if (next(c) != 0) /* document end */
    return -1;
  if (next(c) != 0)
    return -1;
  if (c->ev.type != YAML_STREAM_END_EVENT)
    return fail_at(c, &c->ev.start_mark,
                   "expected a single YAML document, found a second one");
  return 0;
}

/* ------------------------------------------------------------- loaders */

/* For each switch the file set to something other than what is in effect:
 * "msr.enabled: true (line 3, column 12)" into `where`, "msr.enabled: true"
 * into `what`; "" when none. */
static void describe_withheld(const struct ctx *c, char *where, size_t wherelen,
                              char *what, size_t whatlen) {
  const bool now[2] = {c->cfg.msr_enabled, c->cfg.msr_force};
  size_t o = 0, p = 0;
  where[0] = '\0';
  what[0] = '\0';
  for (int i = 0; i < 2; i++) {
    const struct withheld *h = &c->withheld[i];
    if (!h->set || h->value == now[i])
      continue;
    const char *sep = o ? " and " : "";
    const char *v = h->value ? "true" : "false";
    int n = snprintf(where + o, wherelen - o, "%s%s: %s (line %zu, column %zu)",
                     sep, h->key, v, h->mark.line + 1, h->mark.column + 1);
    int m = snprintf(what + p, whatlen - p, "%s%s: %s", sep, h->key, v);
    /* Two keys of at most 22 bytes: the buffers are far larger. */
    if (n < 0 || (size_t)n >= wherelen - o || m < 0 || (size_t)m >= whatlen - p)
      break;
    o += (size_t)n;
    p += (size_t)m;
  }
}

static int load_buffer(const char *name, const char *buf, size_t len,
                       struct rapl_config *cfg, bool msr_allowed,
                       struct rapl_yaml_file_info *info, char *err,
                       size_t errlen) {
  char scratch[8];
  if (info != NULL) {
    info->withheld[0] = '\0';
    info->withheld_keys[0] = '\0';
  }
  struct ctx *c;
  int rc;
  if (err == NULL || errlen == 0) {
    err = scratch;
    errlen = sizeof(scratch);
  }
  err[0] = '\0';
  if (len > RAPL_YAML_MAX_BYTES) {
    snprintf(err, errlen,
             "%s: the file is %zu bytes, larger than the limit of %d bytes "
             "(1 MiB)",
             name, len, RAPL_YAML_MAX_BYTES);
    return -1;
  }
  c = calloc(1, sizeof(*c));
  if (c == NULL) {
    snprintf(err, errlen, "%s: out of memory", name);
    return -1;
  }
  c->name = name;
  c->buf = (const unsigned char *)buf;
  c->len = len;
  c->cfg = *cfg;
  c->err = err;
  c->errlen = errlen;
  c->msr_allowed = msr_allowed;
  if (!yaml_parser_initialize(&c->parser)) {
    snprintf(err, errlen, "%s: out of memory", name);
    free(c);
    return -1;
  }
  yaml_parser_set_input_string(&c->parser, c->buf, len);
  rc = parse_stream(c);
  if (c->have_ev)
    yaml_event_delete(&c->ev);
  yaml_parser_delete(&c->parser);
  char why[160];
  if (rc == 0 && rapl_config_check(&c->cfg, why, sizeof(why)) != 0) {
    snprintf(err, errlen, "%s: %s", name, why);
    rc = -1;
  }
  if (rc == 0) {
    *cfg = c->cfg;
    if (info != NULL)
      describe_withheld(c, info->withheld, sizeof(info->withheld),
                        info->withheld_keys, sizeof(info->withheld_keys));
  }
  free(c);
  return rc;
}

int rapl_config_load_yaml_buffer(const char *name, const char *buf, size_t len,
                                 struct rapl_config *cfg, char *err,
                                 size_t errlen) {
  return load_buffer(name, buf, len, cfg, true, NULL, err, errlen);
}

void rapl_file_stamp_from_stat(const struct stat *st,
                               struct rapl_file_stamp *stamp) {
  memset(stamp, 0, sizeof(*stamp));
  stamp->present = true;
  stamp->mtime_ns =
      (int64_t)st->st_mtim.tv_sec * 1000000000 + (int64_t)st->st_mtim.tv_nsec;
  stamp->ctime_ns =
      (int64_t)st->st_ctim.tv_sec * 1000000000 + (int64_t)st->st_ctim.tv_nsec;
  stamp->size = (int64_t)st->st_size;
  stamp->ino = (uint64_t)st->st_ino;
  stamp->dev = (uint64_t)st->st_dev;
}

bool rapl_file_stamp_equal(const struct rapl_file_stamp *a,
                           const struct rapl_file_stamp *b) {
  if (a->present != b->present)
    return false;
  if (!a->present)
    return a->error == b->error;
  return a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns &&
         a->size == b->size && a->ino == b->ino && a->dev == b->dev;
}

/* --------------------------------------------------------------- trust */

static bool owner_trusted(uid_t uid, uid_t euid) {
  return uid == 0 || uid == euid;
}

static void describe_owner(uid_t uid, uid_t euid, char *out, size_t outlen) {
  if (euid == 0)
    snprintf(out, outlen, "owned by uid %u, not root", (unsigned)uid);
  else
    snprintf(out, outlen,
             "owned by uid %u, neither root nor uid %u (collectd's user)",
             (unsigned)uid, (unsigned)euid);
}

/* `what` is "the file" or "the directory <path>". */
static bool node_trusted(const char *what, const struct stat *st, uid_t euid,
                         char *why, size_t whylen) {
  char owner[96];
  if (!owner_trusted(st->st_uid, euid)) {
    describe_owner(st->st_uid, euid, owner, sizeof(owner));
    snprintf(why, whylen, "%s is %s", what, owner);
    return false;
  }
  /* In a sticky directory (/tmp) others may add entries but not rename or
   * remove one that is not theirs; what lies below is checked on its own. */
  if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
      !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))) {
    snprintf(why, whylen, "%s is writable by %s (mode %04o)", what,
             (st->st_mode & S_IWOTH) ? "everyone" : "its group",
             (unsigned)(st->st_mode & 07777));
    return false;
  }
  return true;
}

/* Every directory on the way to `path` (absolute), and every symbolic link
 * on it: whoever can write one of them can put another file in its place. */
static bool ancestors_trusted(const char *path, uid_t euid, char *why,
                              size_t whylen) {
  char prefix[RAPL_PATH_MAX];
  char what[RAPL_PATH_MAX + 32];
  struct stat st;
  size_t len = strlen(path);
  if (len >= sizeof(prefix)) {
    snprintf(why, whylen, "the path is longer than %zu bytes",
             sizeof(prefix) - 1);
    return false;
  }
  for (size_t i = 0; i <= len; i++) {
    if (i > 0 && i < len && path[i] != '/')
      continue;
    /* path[0, i): "/" first, then each directory, the file last. */
    size_t n = i == 0 ? 1 : i;
    memcpy(prefix, path, n);
    prefix[n] = '\0';
    if (lstat(prefix, &st) != 0) {
      snprintf(why, whylen, "cannot stat %s: %s", prefix, strerror(errno));
      return false;
    }
    if (S_ISLNK(st.st_mode) && !owner_trusted(st.st_uid, euid)) {
      char owner[96];
      describe_owner(st.st_uid, euid, owner, sizeof(owner));
      snprintf(why, whylen, "the symbolic link %s is %s", prefix, owner);
      return false;
    }
    if (i == len)
      break; /* the file itself is checked on the open descriptor */
    if (stat(prefix, &st) != 0) {
      snprintf(why, whylen, "cannot stat %s: %s", prefix, strerror(errno));
      return false;
    }
    snprintf(what, sizeof(what), "the directory %s", prefix);
    if (!node_trusted(what, &st, euid, why, whylen))
      return false;
  }
  return true;
}

bool rapl_config_file_trusted(const char *path, const struct stat *st,
                              uid_t euid, char *why, size_t whylen) {
  char resolved[PATH_MAX];
  why[0] = '\0';
  if (!node_trusted("the file", st, euid, why, whylen))
    return false;
  if (path[0] != '/') {
    snprintf(why, whylen, "the path is not absolute");
    return false;
  }
  if (!ancestors_trusted(path, euid, why, whylen))
    return false;
  /* The directories of the file that symbolic links lead to. */
  if (realpath(path, resolved) == NULL) {
    snprintf(why, whylen, "cannot resolve the path: %s", strerror(errno));
    return false;
  }
  if (strcmp(resolved, path) != 0 &&
      !ancestors_trusted(resolved, euid, why, whylen))
    return false;
  return true;
}

int rapl_config_load_yaml_file(const char *path, struct rapl_config *cfg,
                               struct rapl_yaml_file_info *info, char *err,
                               size_t errlen) {
  char scratch[8];
  struct rapl_yaml_file_info local;
  struct rapl_file_stamp *stamp;
  struct stat st;
  char *buf;
  size_t cap, got = 0;
  int fd, rc;
  if (err == NULL || errlen == 0) {
    err = scratch;
    errlen = sizeof(scratch);
  }
  if (info == NULL)
    info = &local;
  memset(info, 0, sizeof(*info));
  stamp = &info->stamp;
  /* O_NONBLOCK: a FIFO put in the file's place must not hang the read
   * thread; it is refused below as not a regular file. */
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    stamp->error = errno;
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0) {
    stamp->error = errno;
    snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  rapl_file_stamp_from_stat(&st, stamp);
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: not a regular file", path);
    close(fd);
    return -1;
  }
  if (st.st_size > RAPL_YAML_MAX_BYTES) {
    snprintf(err, errlen,
             "%s: the file is %lld bytes, larger than the limit of %d bytes "
             "(1 MiB)",
             path, (long long)st.st_size, RAPL_YAML_MAX_BYTES);
    close(fd);
    return -1;
  }
  /* One byte more than stat said, to notice a file that grew meanwhile;
   * never more than the limit plus one. */
  cap = (size_t)st.st_size + 1;
  buf = malloc(cap);
  if (buf == NULL) {
    snprintf(err, errlen, "%s: out of memory", path);
    close(fd);
    return -1;
  }
  int read_rc = rapl_read_all(fd, buf, cap, &got);
  if (read_rc < 0) {
    snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-read_rc));
    free(buf);
    close(fd);
    return -1;
  }
  close(fd);
  if (got == cap) {
    snprintf(err, errlen, "%s: the file grew while it was being read", path);
    free(buf);
    return -1;
  }
  bool trusted = rapl_config_file_trusted(path, &st, geteuid(), info->why,
                                          sizeof(info->why));
  rc = load_buffer(path, buf, got, cfg, trusted, info, err, errlen);
  free(buf);
  return rc;
}

int rapl_config_load_yaml(const char *path, struct rapl_config *cfg, char *err,
                          size_t errlen) {
  return rapl_config_load_yaml_file(path, cfg, NULL, err, errlen);
}
