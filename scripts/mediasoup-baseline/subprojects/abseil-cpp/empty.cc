/* intentionally empty: the system library comes through the dependency */
