// OkHttp CertificatePinner, as in the OkHttp documentation
val certificatePinner = CertificatePinner.Builder()
    .add("publicobject.com", "sha256/fyj+KICYkyj+3oWWl30HqEC3CfevAVXs3ncouIizAQc=")
    .add("*.example.org",
         "sha256/MngU5pqnDTuMH08fEjwQSKziwQZT29MijhyWGYgBKlU=",
         "sha256/hV3kXHYNAad2PdSNLhD3wisXY1wFLXyZy4Eak3Zm0wU=")
    .add("**.example.io", "sha256/vO3bj0FJ00j07ZJhctfByubkyjn4RiEduxBHyK78o7E=")
    .add("publicobject.com", "sha256/gH2JqBqUuN6HLjoR4KCwSp7Yh4o3upWBNK5nT4Q7EkQ=")
    .build()
val headers = listOf<String>().toMutableList().apply { add("x-debug") }
val client = OkHttpClient.Builder()
    .certificatePinner(certificatePinner)
    .build()
