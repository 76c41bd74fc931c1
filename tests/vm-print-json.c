/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vm-print-json [--json] FILE: read the vmconv-vm JSON document FILE
 * and print the model as vmconv inspect does (cli_print_vm), or with
 * --json as vmc_vm_to_json writes it, followed by the verdict of
 * vmc_vm_check.  For the golden tests of the human print of rich
 * models, which no plugin reads yet (tests/vm-golden.sh).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmconv/vm.h>

#include "cli/vm-print.h"

int
main(int argc, char **argv)
{
    struct vmc_handle *h;
    struct vmc_vm *vm;
    const char *file;
    bool json = false;
    char *text;
    int ret = EXIT_FAILURE;

    if (argc == 3 && strcmp(argv[1], "--json") == 0)
        json = true;
    else if (argc != 2) {
        fprintf(stderr, "usage: vm-print-json [--json] FILE\n");
        return 2;
    }
    file = argv[argc - 1];
    h = vmc_new();
    if (h == NULL)
        return EXIT_FAILURE;
    text = vmc_read_file(h, file, VMC_VM_JSON_MAX);
    vm = text ? vmc_vm_from_json(h, text, file) : NULL;
    free(text);
    if (vm == NULL) {
        fprintf(stderr, "vm-print-json: %s\n", vmc_get_error(h));
        goto out;
    }
    if (json) {
        text = vmc_vm_to_json(vm);
        if (text == NULL) {
            fprintf(stderr, "vm-print-json: %s\n", vmc_get_error(h));
            goto out;
        }
        fputs(text, stdout);
        free(text);
    }
    else
        cli_print_vm(stdout, vm);
    if (vmc_vm_check(vm) == 0)
        printf("check: ok\n");
    else
        printf("check: %s\n", vmc_get_error(h));
    ret = EXIT_SUCCESS;
 out:
    vmc_vm_free(vm);
    vmc_free(h);
    return ret;
}
