"""What a mall manager reports, from the tracks the cloud stored: staff recognised and left out
of visitor figures (:mod:`.staff`), people who came together counted as groups (:mod:`.groups`),
queue length and waits (:mod:`.queues`) and a site occupancy that does not drift
(:mod:`.occupancy`). Pure functions over the stored rows, with the site's ``reporting:`` rules
(:mod:`footfall.site.reporting`): the API and the simulator's evaluation call the same ones.
"""
