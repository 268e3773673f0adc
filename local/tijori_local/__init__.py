"""Everything that runs Tijori on one machine without AWS or Paytm: template loading, handler
loading, and (issues 3 and 4) the Paytm simulator and the local runtime."""
