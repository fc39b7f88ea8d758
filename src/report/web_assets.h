/* web_assets.h - the files of web/, compiled in.
 *
 * tools/embed_web.py (run by setup.py before compiling) generates
 * pyprof_web_assets.h in build/generated/ from every file in web/: one
 * NUL-terminated byte array per file, named pyprof_web_<file name with .
 * as _>.  The files
 * stay real HTML/CSS/JS in the repository, editable and lintable as such.
 */
#ifndef PYPROF_WEB_ASSETS_H
#define PYPROF_WEB_ASSETS_H

#include "pyprof_web_assets.h"

#endif
