Console.WriteLine("usage: Meridian.Benchmarks <scenario>");
