.add("*.a.example", "sha256/fyj+KICYkyj+3oWWl30HqEC3CfevAVXs3ncouIizAQc=",
 "sha256/MngU5pqnDTuMH08fEjwQSKziwQZT29MijhyWGYgBKlU=")
