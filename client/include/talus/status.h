#pragma once
// The client API reports errors with the same Status/Result types the rest of Talus uses.
#include "common/result.h"
#include "common/status.h"
