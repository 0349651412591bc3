/*
 * Parses an xl.cfg(5) file with libxlutil, the parser xl itself uses, and
 * prints what it found, one tab-separated record per line:
 *
 *   setting KEY           every assignment, in file order (duplicates too)
 *   value   KEY VALUE     the effective value of a string or number key
 *   item    KEY N VALUE   the effective items of a list key
 *   disk    N field=value ...   each `disk` item as xlu_disk_parse reads it
 *   pci     N DDDD:BB:SS.F permissive=B   each `pci` item as xlu_pci_parse_spec_string reads it
 *
 * Exit status: 0 parsed, 1 the file does not parse (libxlutil prints why on
 * stderr), 2 usage, 3 a disk or pci item is refused or the settings walk
 * disagrees with the public getters.
 *
 * libxlutil has no public way to list the keys of a file, and xl silently
 * ignores unknown keys, so the keys are read from the parsed settings list.
 * Only its two leading members are mirrored here (`settings` first in
 * XLU_Config, then `next` and `name` first in each setting: unchanged since
 * Xen 4.0); every key found is checked against the public getters.
 *
 * Build: gcc -o xlcfg-check xlcfg-check.c -lxlutil -lxenlight
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxlutil.h>

struct mirror_setting {
    struct mirror_setting *next;
    char *name;
};

struct mirror_config {
    struct mirror_setting *settings;
};

static const char *nz(const char *s) { return s ? s : ""; }

static int print_disks(XLU_Config *cfg) {
    XLU_ConfigList *list;
    int n, i;
    if (xlu_cfg_get_list(cfg, "disk", &list, &n, 1)) return 0;
    for (i = 0; i < n; i++) {
        const char *spec = xlu_cfg_get_listitem(list, i);
        libxl_device_disk disk;
        if (!spec) { fprintf(stderr, "disk item %d is not a string\n", i); return 3; }
        libxl_device_disk_init(&disk);
        if (xlu_disk_parse(cfg, 1, &spec, &disk)) {
            fprintf(stderr, "disk item %d refused: %s\n", i, spec);
            libxl_device_disk_dispose(&disk);
            return 3;
        }
        printf("disk\t%d\tvdev=%s\ttarget=%s\treadwrite=%d\tbackend_domname=%s\tscript=%s\tbackend=%s\n", i, nz(disk.vdev),
               nz(disk.pdev_path), disk.readwrite, nz(disk.backend_domname), nz(disk.script),
               libxl_disk_backend_to_string(disk.backend));
        libxl_device_disk_dispose(&disk);
    }
    return 0;
}

static int print_pcis(XLU_Config *cfg) {
    XLU_ConfigList *list;
    int n, i;
    if (xlu_cfg_get_list(cfg, "pci", &list, &n, 1)) return 0;
    for (i = 0; i < n; i++) {
        const char *spec = xlu_cfg_get_listitem(list, i);
        libxl_device_pci pci;
        if (!spec) { fprintf(stderr, "pci item %d is not a string\n", i); return 3; }
        libxl_device_pci_init(&pci);
        if (xlu_pci_parse_spec_string(cfg, &pci, spec)) {
            fprintf(stderr, "pci item %d refused: %s\n", i, spec);
            libxl_device_pci_dispose(&pci);
            return 3;
        }
        printf("pci\t%d\t%04x:%02x:%02x.%x\tpermissive=%d\n", i, pci.domain, pci.bus, pci.dev, pci.func, pci.permissive ? 1 : 0);
        libxl_device_pci_dispose(&pci);
    }
    return 0;
}

int main(int argc, char **argv) {
    XLU_Config *cfg;
    struct mirror_setting *s;
    const char **names;
    size_t count = 0, i, j;
    int rc;

    if (argc != 2) { fprintf(stderr, "usage: %s FILE\n", argv[0]); return 2; }
    cfg = xlu_cfg_init(stderr, argv[1]);
    if (!cfg) { perror("xlu_cfg_init"); return 2; }
    if (xlu_cfg_readfile(cfg, argv[1])) { xlu_cfg_destroy(cfg); return 1; }

    /* The list is kept newest first (a later assignment wins); print it in file order. */
    for (s = ((struct mirror_config *)cfg)->settings; s; s = s->next) count++;
    names = calloc(count ? count : 1, sizeof(*names));
    if (!names) return 2;
    i = count;
    for (s = ((struct mirror_config *)cfg)->settings; s; s = s->next) names[--i] = s->name;

    for (i = 0; i < count; i++) {
        XLU_ConfigList *list;
        int n, e;
        const char *value;
        printf("setting\t%s\n", names[i]);
        for (j = 0; j < i; j++) if (!strcmp(names[j], names[i])) break;
        if (j < i) continue; /* values printed once, for the effective assignment */
        e = xlu_cfg_get_list(cfg, names[i], &list, &n, 1);
        if (e == 0) {
            int k;
            for (k = 0; k < n; k++) {
                const char *item = xlu_cfg_get_listitem(list, k);
                if (!item) { fprintf(stderr, "%s: item %d is not a string\n", names[i], k); return 3; }
                printf("item\t%s\t%d\t%s\n", names[i], k, item);
            }
        } else if (e == EINVAL && xlu_cfg_get_string(cfg, names[i], &value, 1) == 0) {
            printf("value\t%s\t%s\n", names[i], value);
        } else {
            fprintf(stderr, "%s: found in the settings list but not by the getters (error %d)\n", names[i], e);
            return 3;
        }
    }
    rc = print_disks(cfg);
    if (!rc) rc = print_pcis(cfg);
    free(names);
    xlu_cfg_destroy(cfg);
    return rc;
}
