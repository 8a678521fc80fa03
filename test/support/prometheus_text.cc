#include "test/support/prometheus_text.h"
