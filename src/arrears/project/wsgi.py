import os
import sys

from django.core.wsgi import get_wsgi_application

from arrears.project.startup import SettingRefused

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
try:
    application = get_wsgi_application()
except SettingRefused as error:  # one line in the server's log, then the worker stops
    sys.stderr.write(f"arrears: {error}\n")
    raise SystemExit(1) from None
