# Tests of the VM model, the plugin loader, the plugins and the
# plugins / inspect / convert commands.

# The VM model and its JSON form (internal library: no plugins).
TESTS += test-vm-model test-vm-json
check_PROGRAMS += test-vm-model test-vm-json
test_vm_model_SOURCES = test-vm-model.c
test_vm_json_SOURCES = test-vm-json.c
