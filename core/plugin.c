/* Plugin loader: being written. */
#include <config.h>
#include "internal.h"
