module perfgo.example/examples

go 1.19
