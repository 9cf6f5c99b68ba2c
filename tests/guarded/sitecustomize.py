"Installs the network guard in every Python started with this folder on PYTHONPATH (the processes a launcher starts)."
import os, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import netguard  # noqa: E402
netguard.install(report_at_exit=True)
