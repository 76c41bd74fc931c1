/* VM model: being written. */
#include <config.h>
#include "internal.h"
