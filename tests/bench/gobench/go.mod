module example.com/perfgobench

go 1.19
