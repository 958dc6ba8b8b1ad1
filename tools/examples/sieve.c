/* SPDX-License-Identifier: MIT */
/*
 * sieve - the concurrent prime sieve from the Go tour, on libgochan.
 *
 * A goroutine generates 2, 3, 4, ...; each prime found adds a filter goroutine to the end
 * of a pipeline of unbuffered channels, dropping the multiples of that prime. The Go code:
 *
 *	func generate(ch chan<- int) { for i := 2; ; i++ { ch <- i } }
 *	func filter(in <-chan int, out chan<- int, prime int) {
 *		for { i := <-in; if i%prime != 0 { out <- i } }
 *	}
 *	func main() {
 *		ch := make(chan int)
 *		go generate(ch)
 *		for i := 0; i < 100; i++ {
 *			prime := <-ch
 *			fmt.Println(prime)
 *			ch1 := make(chan int)
 *			go filter(ch, ch1, prime)
 *			ch = ch1
 *		}
 *	}
 *
 *   sieve [count]      print the first count primes (default 100)
 */
#include <stdio.h>
#include <stdlib.h>

#include <gochan/chan.h>
#include <gochan/sched.h>

/* Send 2, 3, 4, ... on out, until out is closed. */
static void generate(void *arg)
{
	struct go_chan *out = arg;

	for (long i = 2; go_chan_send(out, &i) == 0; i++)
		;
}

struct filter {
	struct go_chan *in, *out;
	long prime;
};

/* Copy what arrives on in to out, except multiples of prime. */
static void filter(void *arg)
{
	struct filter *f = arg;
	long i;

	for (;;) {
		go_chan_recv(f->in, &i, NULL);
		if (i % f->prime != 0 && go_chan_send(f->out, &i) != 0)
			break;
	}
}

static long count = 100;

static void sieve_main(void *arg)
{
	struct go_chan *ch;

	(void)arg;
	go_chan_make(&ch, sizeof(long), 0);    /* ch := make(chan int) */
	go_spawn(generate, ch);                /* go generate(ch) */
	for (long n = 0; n < count; n++) {
		struct filter *f = malloc(sizeof(*f));
		long prime;

		go_chan_recv(ch, &prime, NULL);    /* prime := <-ch */
		printf("%ld\n", prime);
		f->in = ch;
		f->prime = prime;
		go_chan_make(&f->out, sizeof(long), 0);
		go_spawn(filter, f);               /* go filter(ch, ch1, prime) */
		ch = f->out;
	}
	/* main returns: like a Go program, the other goroutines end with it. */
}

int main(int argc, char **argv)
{
	if (argc > 1)
		count = atol(argv[1]);
	return go_run(sieve_main, NULL) == 0 ? 0 : 1;
}
