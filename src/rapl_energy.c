/* collectd glue: configuration in, values out. Everything about RAPL lives in
 * the reader core (src/core) and the backends (src/backends). */
#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/utils/common/common.h"

#include "backend.h"
#include "collectd_config.h"
#include "config_watch.h"
#include "rapl_log.h"
#include "reader.h"

#define PLUGIN_NAME "rapl_energy"
#define META_BACKEND "rapl_backend"

static struct rapl_config plugin_cfg;
static bool plugin_cfg_ready;
static char config_file[RAPL_PATH_MAX];
static struct rapl_collectd_blocks config_blocks;
static struct rapl_reader *reader;
static struct rapl_config_watch watch; /* live only when config_file is set */
static bool watching;

/* One meta data object per backend, made once: the read path allocates
 * nothing of its own (plugin_dispatch_values copies what it keeps). */
static meta_data_t *backend_meta[8];

static void log_to_collectd(int level, const char *message, void *ud) {
  (void)ud;
  plugin_log(level, PLUGIN_NAME ": %s", message);
}

/* make_backend_meta (at init) made one per backend. */
static meta_data_t *meta_for(const struct rapl_backend *b) {
  for (size_t i = 0; rapl_backends[i] != NULL; i++)
    if (rapl_backends[i] == b)
      return backend_meta[i];
  return NULL;
}

static int make_backend_meta(void) {
  for (size_t i = 0; rapl_backends[i] != NULL; i++) {
    if (i == STATIC_ARRAY_SIZE(backend_meta))
      return -1;
    if (backend_meta[i] == NULL) {
      backend_meta[i] = meta_data_create();
      if (backend_meta[i] == NULL ||
          meta_data_add_string(backend_meta[i], META_BACKEND,
                               rapl_backends[i]->name) != 0)
        return -1;
    }
  }
  return 0;
}

/* Every value of one read carries the read's time, so that writers that join
 * series on time (InfluxDB, Graphite, Prometheus) line them up. */
static void dispatch_gauge(cdtime_t time, const char *plugin_instance,
                           const char *type, const char *type_instance,
                           gauge_t value, meta_data_t *meta) {
  value_list_t vl = VALUE_LIST_INIT;
  value_t v = {.gauge = value};
  vl.time = time;
  vl.values = &v;
  vl.values_len = 1;
  vl.meta = meta;
  sstrncpy(vl.plugin, PLUGIN_NAME, sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, plugin_instance, sizeof(vl.plugin_instance));
  sstrncpy(vl.type, type, sizeof(vl.type));
  sstrncpy(vl.type_instance, type_instance, sizeof(vl.type_instance));
  plugin_dispatch_values(&vl);
}

struct read_context {
  /* When the counters were sampled: taken at the first sample, after any
   * discovery or rescan the read did first, so that it is not early by
   * their duration. */
  cdtime_t time;
  const struct rapl_backend *source; /* backend the samples came from */
  int zones;                         /* samples dispatched */
};

static void dispatch_sample(const struct rapl_sample *s, void *ud) {
  struct read_context *ctx = ud;
  const char *zone = rapl_zone_kind_name(s->kind);
  /* During a switch the reader still samples the old backend, which is the
   * one in use while the samples are delivered. */
  if (ctx->source == NULL)
    ctx->source = rapl_reader_backend(reader);
  if (ctx->time == 0)
    ctx->time = cdtime();
  ctx->zones++;
  meta_data_t *meta = meta_for(ctx->source);
  if (plugin_cfg.report_energy)
    dispatch_gauge(ctx->time, s->instance, "energy", zone, s->energy_j, meta);
  if (plugin_cfg.report_power && s->has_power)
    dispatch_gauge(ctx->time, s->instance, "power", zone, s->power_w, meta);
}

/* Meta data is dropped by write_graphite, write_prometheus, InfluxDB and the
 * network plugin, so the backend is also a value of its own: 1 only for the
 * backend that delivered zones in this read. With the number of zones read
 * it lets every writer alert on "nothing" and on "some zones missing". */
static void dispatch_read_gauges(struct read_context *ctx) {
  if (ctx->time == 0)
    ctx->time = cdtime();
  for (size_t i = 0; rapl_backends[i] != NULL; i++) {
    char type_instance[DATA_MAX_NAME_LEN];
    ssnprintf(type_instance, sizeof(type_instance), "backend-%s",
              rapl_backends[i]->name);
    dispatch_gauge(ctx->time, "", "gauge", type_instance,
                   rapl_backends[i] == ctx->source ? 1.0 : 0.0,
                   meta_for(ctx->source));
  }
  dispatch_gauge(ctx->time, "", "count", "zones", (gauge_t)ctx->zones,
                 meta_for(ctx->source));
}

static int rapl_energy_config(oconfig_item_t *ci) {
  rapl_log_set_sink(log_to_collectd, NULL);
  if (!plugin_cfg_ready) {
    rapl_config_defaults(&plugin_cfg);
    plugin_cfg_ready = true;
  }
  if (rapl_collectd_config(ci, &config_blocks, &plugin_cfg, config_file,
                           sizeof(config_file)) != 0)
    return -1;
  if (config_file[0] == '\0')
    return 0;
  /* The file comes last: it is the part that can change at run time. A file
   * that is missing or wrong now fails the configuration, so `collectd -T`
   * catches a typo before deployment. */
  char err[RAPL_CONFIG_WATCH_ERRLEN];
  if (watching)
    rapl_config_watch_destroy(&watch);
  watching = false;
  if (rapl_config_watch_init(&watch, config_file, &plugin_cfg, err,
                             sizeof(err)) != 0) {
    /* Through rapl_log, which shows a cut where collectd would not. */
    rapl_log(RAPL_LOG_ERR, "ConfigFile: %s", err);
    return -1;
  }
  watching = true;
  plugin_cfg = *rapl_config_watch_current(&watch);
  return 0;
}

static int rapl_energy_init(void) {
  rapl_log_set_sink(log_to_collectd, NULL);
  if (!plugin_cfg_ready) {
    rapl_config_defaults(&plugin_cfg);
    plugin_cfg_ready = true;
  }
  if (reader == NULL)
    reader = rapl_reader_create(&plugin_cfg);
  if (reader == NULL || make_backend_meta() != 0) {
    ERROR(PLUGIN_NAME ": out of memory");
    return -1;
  }
  INFO(PLUGIN_NAME " %s: sysfs %s, perf fallback %s, MSR fallback %s",
       RAPL_ENERGY_VERSION, plugin_cfg.sysfs_path,
       plugin_cfg.perf_enabled ? "enabled" : "disabled",
       plugin_cfg.msr_force     ? "forced"
       : plugin_cfg.msr_enabled ? "enabled"
                                : "disabled");
  return 0;
}

static int rapl_energy_read(void) {
  struct rapl_config next;
  if (watching && rapl_config_watch_poll(&watch, &next) == 1) {
    plugin_cfg = next;
    rapl_reader_reconfigure(reader, &next);
  }

  struct read_context ctx = {0};
  int n = rapl_reader_read(reader, dispatch_sample, &ctx);
  dispatch_read_gauges(&ctx);
  /* The reader fails only the first read of a stretch without RAPL: collectd
   * would otherwise back off, up to a day, delaying recovery and these
   * values. */
  return n < 0 ? -1 : 0;
}

static int rapl_energy_shutdown(void) {
  rapl_reader_destroy(reader);
  reader = NULL;
  if (watching)
    rapl_config_watch_destroy(&watch);
  watching = false;
  for (size_t i = 0; i < STATIC_ARRAY_SIZE(backend_meta); i++) {
    meta_data_destroy(backend_meta[i]);
    backend_meta[i] = NULL;
  }
  rapl_log_set_sink(NULL, NULL);
  return 0;
}

void module_register(void) {
  plugin_register_complex_config(PLUGIN_NAME, rapl_energy_config);
  plugin_register_init(PLUGIN_NAME, rapl_energy_init);
  plugin_register_read(PLUGIN_NAME, rapl_energy_read);
  plugin_register_shutdown(PLUGIN_NAME, rapl_energy_shutdown);
}
