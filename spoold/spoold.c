/*
 * spoold.c — the spoold program: command line, then the daemon
 * (daemon.h).  Runs in the foreground and logs to stderr, for systemd or a
 * terminal; --once drains the spool and exits, for cron.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static void usage(FILE *fp)
{
    fputs("usage: spoold [-c FILE] [--node NAME] [--spool DIR] [--once] [-v]\n"
          "              [--OPTION VALUE]... [--set KEY=VALUE]...\n"
          "  -c, --config FILE     configuration (default " CONF_DEFAULT_PATH ")\n"
          "      --once            process until incoming/ is empty, then exit\n"
          "  -v, --verbose         debug messages\n"
          "      --check-config    check the configuration, print it, exit\n"
          "      --set KEY=VALUE   override any key of spoold.conf(5)\n"
          "      --allow-root      run even as root (same as allow_root = true)\n"
          "  overrides: --spool --output --node --workers --poll-interval\n"
          "    --settle --heartbeat --lease --grace --max-attempts\n"
          "    --memory-limit --cpu-limit --pack-timeout --min-free-memory\n"
          "    --min-free-disk\n"
          "  -V, --version, -h, --help\n", fp);
}

enum { OPT_ONCE = 256, OPT_SET, OPT_CHECK, OPT_KEY, OPT_ROOT };

/* Long options that set the configuration key of the same name ('-'
 * read as '_'). */
static const struct option longopts[] = {
    { "config", required_argument, NULL, 'c' },
    { "once", no_argument, NULL, OPT_ONCE },
    { "verbose", no_argument, NULL, 'v' },
    { "version", no_argument, NULL, 'V' },
    { "help", no_argument, NULL, 'h' },
    { "set", required_argument, NULL, OPT_SET },
    { "check-config", no_argument, NULL, OPT_CHECK },
    { "allow-root", no_argument, NULL, OPT_ROOT },
    { "spool", required_argument, NULL, OPT_KEY },
    { "output", required_argument, NULL, OPT_KEY },
    { "node", required_argument, NULL, OPT_KEY },
    { "workers", required_argument, NULL, OPT_KEY },
    { "poll-interval", required_argument, NULL, OPT_KEY },
    { "settle", required_argument, NULL, OPT_KEY },
    { "heartbeat", required_argument, NULL, OPT_KEY },
    { "lease", required_argument, NULL, OPT_KEY },
    { "grace", required_argument, NULL, OPT_KEY },
    { "max-attempts", required_argument, NULL, OPT_KEY },
    { "memory-limit", required_argument, NULL, OPT_KEY },
    { "cpu-limit", required_argument, NULL, OPT_KEY },
    { "pack-timeout", required_argument, NULL, OPT_KEY },
    { "min-free-memory", required_argument, NULL, OPT_KEY },
    { "min-free-disk", required_argument, NULL, OPT_KEY },
    { NULL, 0, NULL, 0 },
};

static int add_override(struct daemon_opts *o, const char *key,
                        size_t keylen, const char *val)
{
    if (o->noverrides == DAEMON_MAX_OVERRIDES) {
        fprintf(stderr, "spoold: more than %d overrides\n", DAEMON_MAX_OVERRIDES);
        return -1;
    }
    char *k = o->override_key[o->noverrides];
    if (keylen >= sizeof o->override_key[0]) {
        fprintf(stderr, "spoold: unknown setting '%.*s'\n", (int)keylen, key);
        return -1;
    }
    for (size_t i = 0; i < keylen; i++)
        k[i] = key[i] == '-' ? '_' : key[i];
    k[keylen] = '\0';
    o->override_val[o->noverrides++] = val;
    return 0;
}

/* Prints the effective configuration (--check-config). */
static int check_config(const struct daemon_opts *o)
{
    struct spoold_conf c;
    errbuf e;
    if (daemon_load_conf(o, &c, &e) < 0) {
        fprintf(stderr, "spoold: %s\n", e.msg);
        conf_free(&c);
        return 2;
    }
    char a[16], b[16], m[16], pl[512];
    printf("config %s: ok\nspool %s\noutput %s\nnode %s\nworkers %d\n"
           "poll_interval %g\nsettle %g\nheartbeat %g\nlease %g\ngrace %g\n"
           "max_attempts %d\nkeep_done %s\nmemory_limit %s\ncpu_limit %g\n"
           "pack_timeout %g\nmin_free_memory %s\nmin_free_disk %s\n"
           "umask %03o\nallow_root %s\npipeline %s\n",
           c.path ? c.path : "(none)", c.spool, c.output, c.node, c.workers,
           c.poll_interval, c.settle, c.heartbeat, c.lease, c.grace,
           c.max_attempts, c.keep_done ? "true" : "false",
           conf_format_size(c.memory_limit, m, sizeof m), c.cpu_limit,
           c.pack_timeout, conf_format_size(c.min_free_memory, a, sizeof a),
           conf_format_size(c.min_free_disk, b, sizeof b), c.umask,
           c.allow_root ? "true" : "false",
           conf_pipeline_describe(&c, pl, sizeof pl));
    conf_free(&c);
    return 0;
}

int main(int argc, char **argv)
{
    struct daemon_opts o = { .conf_path = CONF_DEFAULT_PATH };
    bool check = false;
    int opt, idx = 0;
    while ((opt = getopt_long(argc, argv, "c:vVh", longopts, &idx)) != -1) {
        switch (opt) {
        case 'c': o.conf_path = optarg; o.conf_given = true; break;
        case 'v': o.verbose = true; break;
        case OPT_ONCE: o.once = true; break;
        case OPT_CHECK: check = true; break;
        case 'V':
            printf("spoold %s\n", SPOOLD_VERSION);
#ifdef __SANITIZE_ADDRESS__
            printf("built with AddressSanitizer: memory_limit is not enforced\n");
#endif
            return 0;
        case 'h': usage(stdout); return 0;
        case OPT_SET: {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg) {
                fprintf(stderr, "spoold: --set wants KEY=VALUE\n");
                return 2;
            }
            if (add_override(&o, optarg, (size_t)(eq - optarg), eq + 1) < 0)
                return 2;
            break;
        }
        case OPT_ROOT:
            if (add_override(&o, "allow_root", strlen("allow_root"), "true") < 0)
                return 2;
            break;
        case OPT_KEY:
            if (add_override(&o, longopts[idx].name,
                             strlen(longopts[idx].name), optarg) < 0)
                return 2;
            break;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "spoold: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return check ? check_config(&o) : daemon_main(&o);
}
