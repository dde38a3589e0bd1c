/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linked with one folder library whole (every object, used or not) and only the libraries that
 * folder declares: an undefined reference here is a call against the folder graph.
 */
int main(void)
{
	return 0;
}
